/** Builds: request and response shapes shared by the server, the CLI and the console. */
import { z } from 'zod';
import { NodePath } from '../schemas/common.ts';
import { OsUser } from '../tasks/kinds.ts';
import { ArtifactVersion } from '../artifacts/index.ts';
import { BuildCommand, GitRef, GitUrl, OutputPath } from './grammar.ts';

export const BUILD_STATES = ['queued', 'running', 'cancelling', 'succeeded', 'failed', 'cancelled'] as const;
export type BuildState = (typeof BUILD_STATES)[number];
/** States a build does not leave. */
export const FINISHED_BUILD_STATES: readonly BuildState[] = ['succeeded', 'failed', 'cancelled'];

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name');

export const CreateBuildInput = z.strictObject({
  /** The service node the artifact is stored under. */
  nodePath: NodePath,
  repo: GitUrl,
  ref: GitRef.default('main'),
  /** Run by `/bin/sh -c` in the checkout. */
  command: BuildCommand,
  /** The directory (relative to the checkout) packaged as the artifact. */
  outputPath: OutputPath,
  /** The artifact's version; default derived from the ref and commit (`main-1a2b3c4d5e6f`). */
  version: ArtifactVersion.optional(),
  env: z.record(EnvName, z.string().max(8192).refine((s) => !s.includes('\u0000'), 'may not contain NUL')).refine((e) => Object.keys(e).length <= 64, 'at most 64 variables').default({}),
  timeoutSeconds: z.number().int().min(1).max(7 * 24 * 3600).optional(),
});
export type CreateBuildInput = z.infer<typeof CreateBuildInput>;

export const BuildArtifactRef = z.object({ version: z.string(), sha256: z.string(), size: z.number() });

export const BuildView = z.object({
  id: z.number(),
  nodePath: z.string(),
  pool: z.string(),
  state: z.enum(BUILD_STATES),
  /** Why it is still queued, or why it failed. */
  reason: z.string().nullable(),
  repo: z.string(),
  ref: z.string(),
  command: z.string(),
  outputPath: z.string(),
  /** The version asked for (null: derived once the commit is known). */
  version: z.string().nullable(),
  commit: z.string().nullable(),
  artifact: BuildArtifactRef.nullable(),
  hostname: z.string().nullable(),
  taskId: z.string().nullable(),
  taskState: z.string().nullable(),
  exitCode: z.number().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
});
export type BuildView = z.infer<typeof BuildView>;

/** Build settings a node holds; every field inherits separately from the nearest ancestor that sets it. */
export const BuildSettingsInput = z.strictObject({
  /** The tree node whose machines run this subtree's builds. */
  pool: NodePath.nullable().optional(),
  /** Builds at once per machine of a pool (read on the pool's node). */
  maxPerMachine: z.number().int().min(1).max(64).nullable().optional(),
  /** The OS user builds run as (default root). */
  user: OsUser.nullable().optional(),
});
export type BuildSettingsInput = z.infer<typeof BuildSettingsInput>;

const Inherited = <T extends z.ZodType>(t: T) => z.object({ value: t, from: z.string().nullable() });

export const BuildSettingsView = z.object({
  nodePath: z.string(),
  /** What this node itself sets. */
  own: z.object({ pool: z.string().nullable(), maxPerMachine: z.number().nullable(), user: z.string().nullable() }),
  /** What applies here, and the node it comes from (null: the default). */
  effective: z.object({ pool: Inherited(z.string().nullable()), maxPerMachine: Inherited(z.number()), user: Inherited(z.string()) }),
});
export type BuildSettingsView = z.infer<typeof BuildSettingsView>;

/** One chunk of a build's live log (SSE `log` events): `text` starts at byte `at`. */
export const BuildLogChunk = z.object({ at: z.number(), text: z.string() });
export type BuildLogChunk = z.infer<typeof BuildLogChunk>;
