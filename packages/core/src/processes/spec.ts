/**
 * A supervised process as a service node declares it (God, supervisord and PM2 are the models):
 * what to run and as whom, the discovery ports it serves, how it stops, when it is restarted, how
 * its health is checked and where its output goes. The `process` task carries it to each machine.
 */
import { z } from 'zod';
import { NodePath } from '../schemas/common.ts';
import { PortName, PortNumber } from '../discovery/schema.ts';

// Not imported from tasks/kinds.ts, which imports this file (the `process` kind): same rules.
const OsUser = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a POSIX user name (lower-case letters, digits, "_" and "-", at most 32)');
const Arg = z.string().max(8192).refine((s) => !s.includes('\u0000'), 'may not contain the NUL character');
const Argv = z.array(Arg).min(1).max(256);
/** An absolute path without `..` segments or NUL. */
export const AbsolutePath = z
  .string()
  .max(4096)
  .regex(/^\/[^\u0000]*$/, 'must be an absolute path')
  .refine((p) => !p.split('/').includes('..'), 'may not contain ".."');

/** Signals a process may ask to be stopped with. */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const;
export const RESTART_POLICIES = ['always', 'on-failure', 'never'] as const;

export const RestartPolicy = z.strictObject({
  policy: z.enum(RESTART_POLICIES).default('always'),
  /** First delay before a restart; it doubles after each restart that did not stay up. */
  backoffSeconds: z.number().min(0).max(60).default(1),
  maxBackoffSeconds: z.number().min(0).max(3600).default(60),
  /** More than `flapRestarts` restarts within `flapWindowSeconds` is flapping: restarting stops. */
  flapRestarts: z.number().int().min(1).max(1000).default(5),
  flapWindowSeconds: z.number().int().min(1).max(3600).default(60),
  /** A run this long resets the backoff to its first delay. */
  resetAfterSeconds: z.number().int().min(1).max(86_400).default(60),
});
export type RestartPolicy = z.infer<typeof RestartPolicy>;

const checkTiming = {
  intervalSeconds: z.number().min(0.1).max(3600).default(10),
  timeoutSeconds: z.number().min(0.1).max(600).default(2),
  /** Consecutive passes before the process counts as healthy. */
  healthyThreshold: z.number().int().min(1).max(100).default(1),
  /** Consecutive failures before a healthy process counts as unhealthy. */
  unhealthyThreshold: z.number().int().min(1).max(100).default(3),
};

/** How health is checked: an HTTP GET (2xx/3xx passes), a TCP connect, or a command exiting 0. */
export const HealthCheck = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('http'), port: PortNumber, path: z.string().max(2048).regex(/^\/[\x21-\x7e]*$/, 'must be a URL path starting with "/"').default('/'), ...checkTiming }),
  z.strictObject({ type: z.literal('tcp'), port: PortNumber, ...checkTiming }),
  z.strictObject({ type: z.literal('command'), argv: Argv, ...checkTiming }),
]);
export type HealthCheck = z.infer<typeof HealthCheck>;

/** Output capture: stdout and stderr to files in the agent's state dir, rotated and compressed. */
export const LogPolicy = z.strictObject({
  maxBytes: z.number().int().min(1024).max(10 * 1024 ** 3).default(10 * 1024 * 1024),
  maxAgeHours: z.number().min(0.001).max(24 * 365).default(24),
  /** Rotated files kept per stream. */
  keep: z.number().int().min(1).max(100).default(5),
  compress: z.boolean().default(true),
});
export type LogPolicy = z.infer<typeof LogPolicy>;

/** One discovery port the process serves (registered once healthy). */
export const ProcessPort = z.strictObject({ port: PortNumber, name: PortName.optional() });

/**
 * Commands run around a release switch (Capistrano's hooks), each in the release's directory with
 * the process's user and environment, its output in the task's log; one that fails or outlives the
 * timeout fails the host's switch. `postStart` runs once the new process is healthy (the seed's
 * automated tests).
 */
export const ProcessHooks = z.strictObject({
  preStart: Argv.optional(),
  postStart: Argv.optional(),
  preStop: Argv.optional(),
  timeoutSeconds: z.number().int().min(1).max(3600).default(60),
});
export type ProcessHooks = z.infer<typeof ProcessHooks>;

/** What a node declares: `PUT /api/v1/nodes/{path}/process`. */
export const ProcessSpec = z.strictObject({
  argv: Argv,
  /** Working directory; default the release dir when the task names a release, else `/`. */
  cwd: AbsolutePath.optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name'), Arg).default({}),
  user: OsUser.default('root'),
  ports: z.array(ProcessPort).max(16).default([]),
  stopSignal: z.enum(STOP_SIGNALS).default('SIGTERM'),
  /** Seconds between the stop signal and SIGKILL. */
  stopGraceSeconds: z.number().min(0).max(3600).default(10),
  /** Longest wait, after draining in discovery, for in-flight connections to the ports to close. */
  drainSeconds: z.number().min(0).max(600).default(5),
  restart: RestartPolicy.default(RestartPolicy.parse({})),
  health: HealthCheck.optional(),
  /** RLIMIT_NOFILE (soft and hard) of the process. */
  nofile: z.number().int().min(16).max(1_048_576).optional(),
  logs: LogPolicy.default(LogPolicy.parse({})),
  hooks: ProcessHooks.optional(),
  /**
   * The process runs from the release its deployments ship (its argv is relative to the release
   * dir): nothing starts until the node's first deployment, which starts it host by host.
   */
  deployed: z.boolean().optional(),
});
export type ProcessSpec = z.infer<typeof ProcessSpec>;
export type ProcessSpecInput = z.input<typeof ProcessSpec>;

/** The artifact a release is unpacked from: the control center's URL path and the digest trusted. */
export const ReleaseArtifact = z.strictObject({
  /** `/api/v1/artifacts/corp.pay.api/1.4.2`, fetched from the control center with the machine's credential. */
  path: z.string().max(2048).regex(/^\/api\/v1\/artifacts\/[\x21-\x7e]+$/, 'must be an artifact download path'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 in hex'),
  size: z.number().int().min(0),
});
export type ReleaseArtifact = z.infer<typeof ReleaseArtifact>;

/**
 * A release the process runs from, set by deployments. With an artifact, the agent stages it as
 * Capistrano does (`<apps>/<service>/releases/<version>` unpacked while the task is prepared,
 * `current` switched atomically when it starts, `keep` releases kept); with `dir` alone, it runs
 * from a directory already on the machine.
 */
export const ProcessRelease = z
  .strictObject({
    version: z.string().min(1).max(128).regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, 'must be a version (letters, digits, ".", "_", "+", "-")'),
    dir: AbsolutePath.optional(),
    artifact: ReleaseArtifact.optional(),
    keep: z.number().int().min(1).max(50).default(5),
  })
  .refine((r) => r.dir !== undefined || r.artifact !== undefined, 'a release names its directory or its artifact');
export type ProcessRelease = z.infer<typeof ProcessRelease>;

/** The `process` task's spec: the node's declaration, whose it is, and which generation. */
export const ProcessTaskSpec = ProcessSpec.extend({
  nodeId: z.number().int().min(1),
  service: NodePath,
  /** Bumped by every restart and re-declaration: a task of a newer one replaces the older. */
  generation: z.number().int().min(1),
  release: ProcessRelease.optional(),
});
export type ProcessTaskSpec = z.infer<typeof ProcessTaskSpec>;
