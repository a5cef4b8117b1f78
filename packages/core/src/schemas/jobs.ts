/** Batch jobs: a command, script, reboot or initialisation run over many machines in batches. */
import { z } from 'zod';
import { Hostname, NodePath } from './common.ts';
import { batchSizeProblem } from '../tasks/batches.ts';
import { ExecSpec, MAX_ARG_LENGTH, MAX_ARGS, MAX_SCRIPT_BYTES, OsUser } from '../tasks/kinds.ts';

/** `key=value,key2=value2`: machines whose labels hold every pair. */
export const LabelSelector = z
  .string()
  .max(1024)
  .regex(/^[a-z0-9._/-]{1,63}=[^,=\u0000-\u001f]{0,253}(,[a-z0-9._/-]{1,63}=[^,=\u0000-\u001f]{0,253})*$/, 'must be key=value pairs separated by commas (env=prod,role=web)');

/** Which machines: a subtree, a list of hosts, or a label selector (within a subtree). */
export const JobTarget = z
  .strictObject({
    under: NodePath.optional(),
    hosts: z.array(Hostname).min(1).max(100_000).optional(),
    selector: LabelSelector.optional(),
  })
  .refine((t) => t.under !== undefined || t.hosts !== undefined, { message: 'name the machines: under (a node path), hosts, or a selector with under' })
  .refine((t) => t.selector === undefined || t.under !== undefined, { message: 'a selector picks machines within a subtree: give under too', path: ['selector'] });
export type JobTarget = z.infer<typeof JobTarget>;

export const JobBatch = z.strictObject({
  size: z.union([z.number(), z.string().max(32)]).superRefine((v, ctx) => {
    const p = batchSizeProblem(v);
    if (p) ctx.addIssue({ code: 'custom', message: p });
  }).default('100%'),
  /** Tasks running at once within a batch; default: the whole batch. */
  parallelism: z.number().int().min(1).max(100_000).optional(),
  /** Failed hosts tolerated; one more pauses the job. */
  tolerance: z.number().int().min(0).default(0),
  /** The first batch is one host, and the job pauses after it until resumed. */
  canary: z.boolean().default(false),
});
export type JobBatch = z.infer<typeof JobBatch>;

export const JOB_KINDS = ['exec', 'reboot', 'init'] as const;

export const CreateJobInput = z
  .strictObject({
    kind: z.enum(JOB_KINDS).default('exec'),
    target: JobTarget,
    /** A shell command line (run by /bin/sh -c) or an argv array (run as is). */
    command: z.union([z.string().min(1).max(MAX_ARG_LENGTH), z.array(z.string().max(MAX_ARG_LENGTH)).min(1).max(MAX_ARGS)]).optional(),
    script: z.string().min(1).max(MAX_SCRIPT_BYTES * 2).optional(),
    user: OsUser.default('root'),
    timeoutSeconds: z.number().int().min(1).max(7 * 24 * 3600).default(600),
    batch: JobBatch.default({ size: '100%', tolerance: 0, canary: false }),
    description: z.string().max(500).default(''),
  })
  .superRefine((j, ctx) => {
    const bodies = (j.command === undefined ? 0 : 1) + (j.script === undefined ? 0 : 1);
    if (j.kind === 'exec' && bodies !== 1) ctx.addIssue({ code: 'custom', message: 'an exec job takes exactly one of command and script', path: ['command'] });
    if (j.kind === 'reboot' && bodies !== 0) ctx.addIssue({ code: 'custom', message: 'a reboot job takes no command', path: ['command'] });
    if (j.script !== undefined && Buffer.byteLength(j.script) > MAX_SCRIPT_BYTES) {
      ctx.addIssue({ code: 'custom', message: `a script must be at most ${MAX_SCRIPT_BYTES} bytes`, path: ['script'] });
    }
  });
export type CreateJobInput = z.infer<typeof CreateJobInput>;

/** `POST /jobs/{id}/skip`: hosts not to run (pending), to stop (running) or to stop counting (failed). */
export const SkipHostsInput = z.strictObject({ hosts: z.array(Hostname).min(1).max(100_000) });
export type SkipHostsInput = z.infer<typeof SkipHostsInput>;

export const JOB_STATES = ['running', 'paused', 'stopping', 'stopped', 'succeeded', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const JOB_HOST_STATES = ['pending', 'running', 'succeeded', 'failed', 'stopped', 'skipped'] as const;
export type JobHostState = (typeof JOB_HOST_STATES)[number];

export const JobHostView = z.object({
  hostname: z.string(),
  batch: z.number().int(),
  state: z.enum(JOB_HOST_STATES),
  attempt: z.number().int(),
  taskId: z.string().nullable(),
  taskState: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  error: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  /** Reboot jobs: seconds the machine's agent was away. */
  downtimeSeconds: z.number().nullable(),
});
export type JobHostView = z.infer<typeof JobHostView>;

export const JobView = z.object({
  id: z.number().int(),
  kind: z.enum(JOB_KINDS),
  state: z.enum(JOB_STATES),
  pausedBecause: z.string().nullable(),
  description: z.string(),
  target: z.record(z.string(), z.unknown()),
  spec: z.record(z.string(), z.unknown()),
  batch: z.record(z.string(), z.unknown()),
  batches: z.array(z.number().int()),
  currentBatch: z.number().int(),
  counts: z.record(z.string(), z.number().int()),
  createdBy: z.string(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type JobView = z.infer<typeof JobView>;

export const JobDetailView = JobView.extend({
  hosts: z.array(JobHostView),
  /** Hosts whose output and exit code are the same, grouped, largest group first. */
  groups: z.array(z.object({ hosts: z.array(z.string()), count: z.number().int(), exitCode: z.number().int().nullable(), state: z.string(), stdout: z.string(), stderr: z.string() })),
});
export type JobDetailView = z.infer<typeof JobDetailView>;

export const JobAction = z.enum(['pause', 'resume', 'stop', 'retry']);

/**
 * A node's environment initialisation (`init` jobs), inherited below it: an argv (run as is) or a
 * script, with the exit codes that count as success. Checked with the exec task's own rules.
 */
export const InitCommandInput = z
  .strictObject({
    argv: z.array(z.string()).optional(),
    script: z.string().optional(),
    okExitCodes: z.array(z.number().int()).optional(),
  })
  .superRefine((c, ctx) => {
    const r = ExecSpec.safeParse(c);
    for (const issue of r.success ? [] : r.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  });
export type InitCommandInput = z.infer<typeof InitCommandInput>;

/** The command itself, as stored: exactly one of argv and script. */
export const InitCommand = z.object({ argv: z.array(z.string()).optional(), script: z.string().optional(), okExitCodes: z.array(z.number().int()) });
export type InitCommand = z.infer<typeof InitCommand>;

export const InitCommandView = z.object({
  node: z.string(),
  /** Set on this node (null: it inherits). */
  own: InitCommand.nullable(),
  /** What an init job runs on this node's machines: its own, the nearest ancestor's, or the default. */
  effective: InitCommand,
  /** Where the effective one is set: this node, an ancestor's path, or null for the default (`puppet agent --test`). */
  from: z.string().nullable(),
  updatedBy: z.string().nullable(),
  updatedAt: z.string().nullable(),
});
export type InitCommandView = z.infer<typeof InitCommandView>;
