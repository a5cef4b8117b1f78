/**
 * Task kinds: one spec schema each. The control center validates a spec with its kind's schema
 * before a task is written; the agent validates again before running it, and a kind it does not
 * know is REJECTED with that reason. Adding a kind is one entry here and one controller in the agent.
 */
import { z } from 'zod';
import { safeText } from '../schemas/common.ts';
import { BuildCommand, GitRef, GitUrl, OutputPath } from '../builds/grammar.ts';
import { ProcessTaskSpec } from '../processes/spec.ts';

/** A POSIX user name as useradd accepts it. */
export const OsUser = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a POSIX user name (lower-case letters, digits, "_" and "-", at most 32)');

/** Largest script body, bytes of UTF-8. */
export const MAX_SCRIPT_BYTES = 256 * 1024;
/** Largest argv: count of arguments and length of each. */
export const MAX_ARGS = 256;
export const MAX_ARG_LENGTH = 8192;

const Arg = z.string().max(MAX_ARG_LENGTH).superRefine((s, ctx) => {
  if (s.includes('\u0000')) ctx.addIssue({ code: 'custom', message: 'may not contain the NUL character' });
});

/** A command as argv (run as is, no shell) or a script (run by /bin/sh from a file). */
export const ExecSpec = z
  .strictObject({
    argv: z.array(Arg).min(1).max(MAX_ARGS).optional(),
    script: z
      .string()
      .min(1)
      .refine((s) => Buffer.byteLength(s) <= MAX_SCRIPT_BYTES, `must be at most ${MAX_SCRIPT_BYTES} bytes`)
      .refine((s) => !s.includes('\u0000'), 'may not contain the NUL character')
      .optional(),
    user: OsUser.default('root'),
    timeoutSeconds: z.number().int().min(1).max(7 * 24 * 3600).default(600),
    /** Seconds between SIGTERM and SIGKILL when the task is stopped or times out. */
    killGraceSeconds: z.number().int().min(0).max(600).default(10),
    /** Bytes of stdout and of stderr kept per task: the head and the tail, half each. */
    outputLimitBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(64 * 1024),
    /** Exit statuses that count as success (`puppet agent --test` exits 2 after applying changes). */
    okExitCodes: z.array(z.number().int().min(0).max(255)).min(1).max(16).default([0]),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name'), Arg).default({}),
  })
  .refine((s) => (s.argv === undefined) !== (s.script === undefined), { message: 'give exactly one of argv and script', path: ['argv'] });
export type ExecSpec = z.infer<typeof ExecSpec>;

/** Reboot the machine; the task completes when the agent comes back from the reboot. */
export const RebootSpec = z.strictObject({
  /** Seconds to wait before rebooting, so the report that it is rebooting gets out. */
  delaySeconds: z.number().int().min(0).max(3600).default(1),
  reason: safeText({ max: 200 }).default(''),
});
export type RebootSpec = z.infer<typeof RebootSpec>;

/** Environment initialisation: by default `puppet agent --test`, else the command set on a node. */
export const InitSpec = ExecSpec;
export type InitSpec = ExecSpec;

/** One file of a config the agent writes. */
export const ConfigFile = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be a plain file name'),
  content: z.string(),
});

/** Apply one published nginx or LVS config version on the machine. */
export const ConfigSpec = z.strictObject({
  target: z.enum(['nginx', 'lvs']),
  cluster: z.string(),
  version: z.number().int().min(1),
  files: z.array(ConfigFile).max(10_000),
});
export type ConfigSpec = z.infer<typeof ConfigSpec>;

/** Build a commit on a build-pool machine, package the output dir as tar.gz and upload it (builds capability). */
export const BuildSpec = z.strictObject({
  buildId: z.number().int().min(1),
  repo: GitUrl,
  ref: GitRef,
  command: BuildCommand,
  outputPath: OutputPath,
  user: OsUser.default('root'),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name'), Arg).default({}),
  timeoutSeconds: z.number().int().min(1).max(7 * 24 * 3600).default(3600),
  killGraceSeconds: z.number().int().min(0).max(600).default(10),
  /** Bytes of build log kept: the head and the tail, half each (the head streams live). */
  logLimitBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(4 * 1024 * 1024),
});
export type BuildSpec = z.infer<typeof BuildSpec>;

/** Every kind and its spec schema. */
export const TASK_KINDS = {
  exec: ExecSpec,
  reboot: RebootSpec,
  init: InitSpec,
  config: ConfigSpec,
  process: ProcessTaskSpec,
  build: BuildSpec,
} as const;
export type TaskKind = keyof typeof TASK_KINDS;

/** True when `kind` is one this build knows. */
export function isTaskKind(kind: string): kind is TaskKind {
  return Object.hasOwn(TASK_KINDS, kind);
}

/** Parse a spec of `kind`; a readable reason when the kind is unknown or the spec invalid. */
export function parseTaskSpec(kind: string, spec: unknown): { ok: true; spec: unknown } | { ok: false; reason: string } {
  if (!isTaskKind(kind)) return { ok: false, reason: `unknown task kind "${kind}"` };
  const r = TASK_KINDS[kind].safeParse(spec);
  if (r.success) return { ok: true, spec: r.data };
  const first = r.error.issues[0];
  return { ok: false, reason: `invalid ${kind} spec: ${first ? `${first.path.join('.') || '(spec)'}: ${first.message}` : 'invalid'}` };
}
