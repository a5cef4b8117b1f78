/** The Cron tab's pure parts: the entry form to and from the API's shape, and how runs read. */
import type { CronEntryView, CronRunSummary } from '@canopy/core';

export type CronEntry = CronEntryView;
export type CronRun = CronRunSummary;

export interface CronFormValues {
  name: string;
  schedule: string;
  timezone: string;
  overlap: 'skip' | 'allow' | 'queue-one';
  body: 'command' | 'script';
  /** The command as words, split on blanks ("logrotate /etc/logrotate.conf"). */
  command?: string;
  script?: string;
  user: string;
  timeoutSeconds: number;
  outputLimitKiB: number;
  description?: string;
}

export const DEFAULT_VALUES: CronFormValues = { name: '', schedule: '0 * * * *', timezone: 'UTC', overlap: 'skip', body: 'command', command: '', user: 'root', timeoutSeconds: 3600, outputLimitKiB: 64, description: '' };

/** The form's values for an existing entry (editing it here, or overriding an inherited one). */
export function valuesOf(e: CronEntry): CronFormValues {
  const s = e.spec;
  return {
    name: e.name,
    schedule: s.schedule,
    timezone: s.timezone,
    overlap: s.overlap,
    body: s.script !== undefined ? 'script' : 'command',
    command: (s.argv ?? []).join(' '),
    script: s.script ?? '',
    user: s.user,
    timeoutSeconds: s.timeoutSeconds,
    outputLimitKiB: Math.round(s.outputLimitBytes / 1024),
    description: s.description,
  };
}

/** The PUT body for the form's values. */
export function inputOf(v: CronFormValues): Record<string, unknown> {
  const body = v.body === 'script' ? { script: v.script ?? '' } : { argv: (v.command ?? '').trim().split(/\s+/).filter(Boolean) };
  return {
    schedule: v.schedule.trim(),
    timezone: v.timezone.trim() || 'UTC',
    overlap: v.overlap,
    ...body,
    user: v.user.trim(),
    timeoutSeconds: v.timeoutSeconds,
    outputLimitBytes: v.outputLimitKiB * 1024,
    ...(v.description ? { description: v.description } : {}),
  };
}

/** A server issue path (after `body`) → the form field showing it. */
export function formFieldOf(path: (string | number)[]): keyof CronFormValues | undefined {
  const f = String(path[0] ?? '');
  if (f === 'argv') return 'command';
  if (f === 'outputLimitBytes') return 'outputLimitKiB';
  return (['schedule', 'timezone', 'overlap', 'script', 'user', 'timeoutSeconds', 'description'] as const).find((k) => k === f);
}

export const RUN_STATE_COLOR: Record<CronRun['state'], string> = { running: 'processing', succeeded: 'green', failed: 'red', 'timed-out': 'volcano', skipped: 'default', lost: 'orange' };

/** Where an entry comes from, in words. */
export function originOf(e: Pick<CronEntry, 'own' | 'from' | 'overrides'>): string {
  if (!e.own) return `inherited from ${e.from}`;
  return e.overrides ? `here, overriding ${e.overrides}` : 'here';
}

/** A duration in ms as people read it. */
export function durationText(ms: number | null): string {
  if (ms === null) return '';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}
