/**
 * The artifact repository's shared shapes: immutable versions per service (`corp.pay.api@1.4.2`),
 * content-addressed by sha256. Used by the server, the CLI, the console and the agent alike.
 */
import { z } from 'zod';
import { NODE_PATH_RE } from '../names.ts';
import { safeText } from '../schemas/common.ts';

/**
 * A version: what semver, dates and git-describe strings look like (`1.4.2`, `2026.12.03-1`,
 * `1.0.0-rc.1+build.7`). It names a release directory on every machine and a URL segment, so it
 * starts with a letter or digit, holds only `A-Za-z0-9._+-`, and no `..`.
 */
export const ARTIFACT_VERSION_RE = /^[A-Za-z0-9](?:[A-Za-z0-9._+-]{0,126}[A-Za-z0-9])?$/;

/** Why `v` is not a valid version, or undefined when it is. */
export function artifactVersionProblem(v: string): string | undefined {
  if (!ARTIFACT_VERSION_RE.test(v)) return 'must be 1-128 characters of A-Z a-z 0-9 . _ + -, starting and ending with a letter or digit (e.g. 1.4.2)';
  if (v.includes('..')) return 'may not contain ".."';
  return undefined;
}

export const ArtifactVersion = z.string().superRefine((v, ctx) => {
  const p = artifactVersionProblem(v);
  if (p) ctx.addIssue({ code: 'custom', message: p });
});

export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits (a sha256)');

/** `corp.pay.api@1.4.2` → its node path and version; undefined when it is not one. */
export function parseArtifactRef(ref: string): { nodePath: string; version: string } | undefined {
  const at = ref.indexOf('@');
  if (at <= 0) return undefined;
  const nodePath = ref.slice(0, at);
  const version = ref.slice(at + 1);
  if (!NODE_PATH_RE.test(nodePath) || artifactVersionProblem(version) !== undefined) return undefined;
  return { nodePath, version };
}

/** The `corp.pay.api@1.4.2` form of a version. */
export function artifactRef(nodePath: string, version: string): string {
  return `${nodePath}@${version}`;
}

/** Metadata a push may carry (HTTP: query parameters of the PUT). */
export const ArtifactPutQuery = z.strictObject({
  /** Expected sha256 of the body: a mismatch is refused and nothing is kept. */
  sha256: Sha256Hex.optional(),
  commit: z.string().regex(/^[0-9a-f]{7,64}$/, 'must be a git commit id (7-64 lower-case hex digits)').optional(),
  builder: safeText({ min: 1, max: 253 }).optional(),
  buildId: z.coerce.number().int().positive().optional(),
  log: safeText({ min: 1, max: 1024 }).optional(),
});
export type ArtifactPutQuery = z.infer<typeof ArtifactPutQuery>;

export const ArtifactView = z.object({
  id: z.number().int(),
  nodePath: z.string(),
  version: z.string(),
  /** `corp.pay.api@1.4.2`. */
  ref: z.string(),
  sha256: z.string(),
  size: z.number().int(),
  commit: z.string().nullable(),
  /** Where it was built: a build machine's hostname, or what the pusher said. */
  builder: z.string().nullable(),
  buildId: z.number().int().nullable(),
  /** Where the build log is (a build's log URL or any reference the pusher gave). */
  log: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  /** Last time a deployment of this version started; retention keeps recent ones. */
  deployedAt: z.string().nullable(),
  /** Path of the download, under /api/v1. */
  url: z.string(),
});
export type ArtifactView = z.infer<typeof ArtifactView>;

export const ArtifactListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  /** Opaque cursor from the previous page's `nextCursor`. */
  cursor: z.string().regex(/^[0-9]{1,15}$/).optional(),
});

/** Artifacts of a service (or, under a subtree, of every service below it). */
export const ArtifactList = z.object({ items: z.array(ArtifactView), nextCursor: z.string().nullable() });
export type ArtifactList = z.infer<typeof ArtifactList>;

/** Retention: the newest `keepLast` versions per service, plus those deployed in the last `keepDeployedDays`. */
export const ArtifactRetention = z.strictObject({
  keepLast: z.number().int().min(1).max(100_000).default(20),
  keepDeployedDays: z.number().int().min(0).max(3650).default(30),
});
export type ArtifactRetention = z.infer<typeof ArtifactRetention>;

export const PruneResult = z.object({ removed: z.array(z.string()), kept: z.number().int(), freedBytes: z.number().int() });
export type PruneResult = z.infer<typeof PruneResult>;

export { pickRetained, type RetentionCandidate } from './retention.ts';
export { parseRange, type ByteRange } from './range.ts';
