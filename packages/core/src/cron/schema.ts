/**
 * Scheduled jobs per node (cron): what a node declares, what its machines inherit, the document the
 * agent runs them from, and the runs it reports back. A child node overrides an inherited entry by
 * declaring one of the same name, or disables it with `{ disabled: true }`.
 */
import { z } from 'zod';
import { Cron } from 'croner';
import { safeText } from '../schemas/common.ts';
import { MAX_ARG_LENGTH, MAX_ARGS, MAX_SCRIPT_BYTES, OsUser } from '../tasks/kinds.ts';

export const OVERLAP_POLICIES = ['skip', 'allow', 'queue-one'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/** An entry's name: a DNS label, unique per node (`logrotate`, `backup-db`). */
export const CronName = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a DNS label: lower-case letters, digits and inner hyphens, 1-63 characters');

/** True when `tz` is an IANA time zone this runtime knows. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Why `schedule` is not a cron expression (5 fields, or 6 with seconds first), or undefined. */
export function scheduleProblem(schedule: string, timezone = 'UTC'): string | undefined {
  if (!/^[0-9A-Za-z*/,?#LW-]+( [0-9A-Za-z*/,?#LW-]+){4,5}$/.test(schedule)) return 'must be a cron expression of 5 fields (minute hour day month weekday) or 6 (seconds first), separated by single spaces';
  try {
    const c = new Cron(schedule, { timezone, paused: true, mode: '5-or-6-parts' });
    if (c.nextRun() === null) return 'never fires';
    c.stop();
    return undefined;
  } catch (err) {
    return `is not a valid cron expression: ${err instanceof Error ? err.message : String(err)}`;
  }
}

const Arg = z.string().max(MAX_ARG_LENGTH).refine((s) => !s.includes('\u0000'), 'may not contain the NUL character');

const specShape = {
  schedule: z.string().max(200),
  timezone: z.string().max(64).refine(isTimeZone, 'must be an IANA time zone (e.g. UTC, Europe/Paris)').default('UTC'),
  overlap: z.enum(OVERLAP_POLICIES).default('skip'),
  argv: z.array(Arg).min(1).max(MAX_ARGS).optional(),
  script: z
    .string()
    .min(1)
    .refine((s) => Buffer.byteLength(s) <= MAX_SCRIPT_BYTES, `must be at most ${MAX_SCRIPT_BYTES} bytes`)
    .refine((s) => !s.includes('\u0000'), 'may not contain the NUL character')
    .optional(),
  user: OsUser.default('root'),
  timeoutSeconds: z.number().int().min(1).max(7 * 24 * 3600).default(3600),
  /** Seconds between SIGTERM and SIGKILL when a run times out. */
  killGraceSeconds: z.number().int().min(0).max(600).default(10),
  /** Bytes of stdout and of stderr kept per run: the head and the tail, half each. */
  outputLimitBytes: z.number().int().min(1024).max(1024 * 1024).default(64 * 1024),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name'), Arg).default({}),
  description: safeText({ max: 500 }).default(''),
};

/** One entry as a node declares it (and as the agent runs it). */
export const CronSpec = z.strictObject(specShape).superRefine((s, ctx) => {
  if ((s.argv === undefined) === (s.script === undefined)) ctx.addIssue({ code: 'custom', message: 'give exactly one of argv and script', path: ['argv'] });
  const problem = scheduleProblem(s.schedule, isTimeZone(s.timezone) ? s.timezone : 'UTC');
  if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['schedule'] });
});
export type CronSpec = z.infer<typeof CronSpec>;
export type CronSpecInput = z.input<typeof CronSpec>;

// The same fields, each optional and without its default (a disabled entry must not grow any).
const optionalShape = Object.fromEntries(Object.entries(specShape).map(([k, v]) => [k, (v instanceof z.ZodDefault ? v.unwrap() : v).optional()])) as {
  [K in keyof typeof specShape]: z.ZodOptional<(typeof specShape)[K] extends z.ZodDefault<infer T> ? T : (typeof specShape)[K]>;
};

/**
 * `PUT /nodes/{path}/cron/{name}`: an entry, or `{ disabled: true }` to switch off the inherited
 * one here and below. One object (not a union) so a mistake is reported on its own field.
 */
export const CronEntryInput = z
  .strictObject({ disabled: z.literal(true).optional(), ...optionalShape })
  .superRefine((v, ctx) => {
    if (v.disabled) {
      const extra = Object.keys(v).filter((k) => k !== 'disabled' && (v as Record<string, unknown>)[k] !== undefined);
      if (extra.length > 0) ctx.addIssue({ code: 'custom', message: `a disabled entry takes no other field (got ${extra.join(', ')})`, path: [extra[0]!] });
      return;
    }
    const r = CronSpec.safeParse(v);
    for (const issue of r.success ? [] : r.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  });
export type CronEntryInput = z.input<typeof CronEntryInput>;

/** What a node holds under a name: its own entry, or a mask disabling an inherited one (spec null). */
export interface CronOwn {
  name: string;
  spec: CronSpec | null;
  updatedBy: string;
  updatedAt: string;
}

/** One entry of a machine's table, as the agent gets it in the `cron` document. */
export const CronDocEntry = z.strictObject({
  /** Identity across table changes: the declaring node's id and the name (`12/logrotate`). */
  key: z.string().max(128),
  name: CronName,
  /** The declaring node's path (shown in runs). */
  node: z.string().max(1024),
  spec: CronSpec,
});
export type CronDocEntry = z.infer<typeof CronDocEntry>;

/** The `cron` document: the machine's whole effective table. */
export const CronDoc = z.strictObject({ entries: z.array(CronDocEntry).max(1000) });
export type CronDoc = z.infer<typeof CronDoc>;

export const CRON_RUN_STATES = ['running', 'succeeded', 'failed', 'timed-out', 'skipped', 'lost'] as const;
export type CronRunState = (typeof CRON_RUN_STATES)[number];

/** One run as the agent reports it (pushed on `cron.runs`, by id: a resent one replaces, never adds). */
export const CronRunReport = z.strictObject({
  id: z.uuid(),
  key: z.string().max(128),
  name: CronName,
  node: z.string().max(1024),
  state: z.enum(CRON_RUN_STATES),
  scheduledAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  endedAt: z.iso.datetime().nullable(),
  exitCode: z.number().int().nullable(),
  /** Why it failed, was skipped or lost (`overlap: the previous run is still running`). */
  reason: z.string().max(2000).nullable(),
  stdout: z.string().max(2 * 1024 * 1024),
  stderr: z.string().max(2 * 1024 * 1024),
  /** Bytes of output not kept (between head and tail). */
  truncated: z.number().int().min(0),
});
export type CronRunReport = z.infer<typeof CronRunReport>;

/** A push on `cron.runs`: runs in the order they changed. */
export const CronRunsPush = z.strictObject({ runs: z.array(CronRunReport).min(1).max(500) });
export type CronRunsPush = z.infer<typeof CronRunsPush>;
