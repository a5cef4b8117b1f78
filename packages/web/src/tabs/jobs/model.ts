/** Pure helpers of the Jobs tab: the dialog's values as an API body, and how a job's progress reads. */
import type { CreateJobInput, JobDetailView, JobHostView, JobView } from '@canopy/core';

export type { JobDetailView, JobHostView, JobView };

/** What the "New job" dialog holds. */
export interface JobFormValues {
  body: 'command' | 'script';
  command?: string;
  script?: string;
  user: string;
  timeoutSeconds: number;
  size: string;
  parallelism?: number | null;
  tolerance: number;
  canary: boolean;
  hosts?: string[];
  selector?: string;
  description?: string;
}

/** The create-job request for the dialog's values, targeting the subtree at `path`. */
export function jobInputOf(path: string, v: JobFormValues): Record<string, unknown> {
  const size = v.size.trim();
  const batch: Record<string, unknown> = { size: /^\d+$/.test(size) ? Number(size) : size, tolerance: v.tolerance, canary: v.canary };
  if (v.parallelism) batch['parallelism'] = v.parallelism;
  const target: Record<string, unknown> = { under: path };
  if (v.hosts?.length) target['hosts'] = v.hosts;
  if (v.selector?.trim()) target['selector'] = v.selector.trim();
  const input: Record<string, unknown> = { kind: 'exec', target, user: v.user.trim(), timeoutSeconds: v.timeoutSeconds, batch };
  if (v.body === 'script') input['script'] = v.script ?? '';
  else input['command'] = v.command ?? '';
  if (v.description?.trim()) input['description'] = v.description.trim();
  return input satisfies Partial<Record<keyof CreateJobInput, unknown>>;
}

/** Server field paths ("batch.size", "target.hosts.0") → the dialog's field names. */
export function formFieldOf(path: readonly (string | number)[]): string | undefined {
  const [head, second] = path;
  if (head === 'batch' && typeof second === 'string') return second === 'size' ? 'size' : second;
  if (head === 'target') return typeof second === 'string' && second !== 'under' ? second : 'hosts';
  if (head === 'command' || head === 'script' || head === 'user' || head === 'timeoutSeconds' || head === 'description') return head;
  return undefined;
}

/** A job that will not change again on its own. */
export const isFinished = (state: JobView['state']): boolean => state === 'stopped' || state === 'succeeded' || state === 'failed';

/** Tag colour per job state. */
export const JOB_STATE_COLOR: Record<JobView['state'], string> = {
  running: 'processing',
  paused: 'warning',
  stopping: 'warning',
  stopped: 'default',
  succeeded: 'success',
  failed: 'error',
};

/** Tag colour per host state. */
export const HOST_STATE_COLOR: Record<JobHostView['state'], string> = {
  pending: 'default',
  running: 'processing',
  succeeded: 'success',
  failed: 'error',
  stopped: 'warning',
  skipped: 'default',
};

/** "3 succeeded · 1 failed · 2 pending" from a job's counts, leaving out the zeros. */
export function countsText(counts: Record<string, number>): string {
  const order = ['succeeded', 'failed', 'running', 'pending', 'stopped', 'skipped'];
  const parts = order.filter((k) => (counts[k] ?? 0) > 0).map((k) => `${counts[k]} ${k}`);
  return parts.length ? parts.join(' · ') : 'no hosts';
}

/** What a job runs, in one line: the command, the script's first line, or the kind. */
export function whatOf(job: Pick<JobView, 'kind' | 'spec' | 'description'>): string {
  if (job.description) return job.description;
  const spec = job.spec;
  const argv = spec['argv'];
  if (Array.isArray(argv)) return argv[0] === '/bin/sh' && argv[1] === '-c' && argv.length === 3 ? String(argv[2]) : argv.join(' ');
  if (typeof spec['script'] === 'string') return `script: ${spec['script'].split('\n')[0] ?? ''}`;
  return job.kind;
}

export interface BatchProgress {
  index: number;
  total: number;
  done: number;
  succeeded: number;
  failed: number;
  running: number;
}

/** Per batch, how many of its hosts finished, succeeded, failed and run now. */
export function batchProgress(job: Pick<JobDetailView, 'batches' | 'hosts'>): BatchProgress[] {
  const out = job.batches.map((size, index) => ({ index, total: size, done: 0, succeeded: 0, failed: 0, running: 0 }));
  for (const h of job.hosts) {
    const b = out[h.batch];
    if (!b) continue;
    if (h.state === 'running') b.running++;
    else if (h.state !== 'pending') b.done++;
    if (h.state === 'succeeded') b.succeeded++;
    if (h.state === 'failed') b.failed++;
  }
  return out;
}

/** The headline of an output group: "712 hosts, same output" (or "1 host"). */
export function groupTitle(count: number): string {
  return count === 1 ? '1 host' : `${count} hosts, same output`;
}

/** A duration in milliseconds as "850 ms", "12.3 s" or "4 m 05 s". */
export function durationText(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, '0')} s`;
}
