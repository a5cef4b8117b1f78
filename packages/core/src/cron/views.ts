/** What the API answers about cron tables and runs; shared by the server, CLI and console. */
import { z } from 'zod';
import { CRON_RUN_STATES, CronSpec } from './schema.ts';

/** A run, without its output (lists). */
export const CronRunSummary = z.object({
  id: z.string(),
  name: z.string(),
  hostname: z.string(),
  /** The node that declared the entry the run ran. */
  node: z.string(),
  state: z.enum(CRON_RUN_STATES),
  scheduledAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  exitCode: z.number().nullable(),
  reason: z.string().nullable(),
  /** The last line of output (stdout, else stderr), for lists. */
  lastLine: z.string(),
});
export type CronRunSummary = z.infer<typeof CronRunSummary>;

/** A run with its output as kept (head and tail). */
export const CronRunView = CronRunSummary.extend({ stdout: z.string(), stderr: z.string(), truncated: z.number() });
export type CronRunView = z.infer<typeof CronRunView>;

/** An entry in effect at a node. */
export const CronEntryView = z.object({
  name: z.string(),
  /** The node that declares it: this one, or an ancestor. */
  from: z.string(),
  /** True when declared on this node itself (it overrides any ancestor's of the same name). */
  own: z.boolean(),
  /** The ancestor entry this one overrides, when it does. */
  overrides: z.string().nullable(),
  spec: CronSpec,
  /** The next few fire times, in UTC ISO form. */
  nextRuns: z.array(z.string()),
  /** The latest run on a machine of the subtree, if any. */
  lastRun: CronRunSummary.nullable(),
});
export type CronEntryView = z.infer<typeof CronEntryView>;

/** `GET /nodes/{path}/cron`. */
export const CronTableView = z.object({
  node: z.string(),
  entries: z.array(CronEntryView),
  /** Inherited entries switched off here or above. */
  disabled: z.array(z.object({ name: z.string(), disabledAt: z.string(), from: z.string().nullable(), own: z.boolean() })),
});
export type CronTableView = z.infer<typeof CronTableView>;

/** `GET /nodes/{path}/cron/{name}/runs`. */
export const CronRunPage = z.object({ items: z.array(CronRunSummary), nextCursor: z.string().nullable() });
export type CronRunPage = z.infer<typeof CronRunPage>;
