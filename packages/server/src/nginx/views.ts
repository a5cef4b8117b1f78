/** Turning published versions into the API's views; shared by the nginx and LVS routes. */
import type { z } from 'zod';
import type { RenderedFile } from './model.ts';
import type { ApplyResult, VersionMeta } from './publisher.ts';
import type { ApplyView, PublishStatus, VersionView } from './schema.ts';

/** A version without its files. */
export function versionView(m: VersionMeta): z.output<typeof VersionView> {
  return {
    version: m.number, sha256: m.sha256, author: m.author, reason: m.reason, rollbackOf: m.rollbackOf, createdAt: m.createdAt,
    added: m.added, removed: m.removed, contentPruned: m.contentPruned,
  };
}

/** Files as the API returns them (no digests). */
export function fileViews(files: readonly RenderedFile[]): RenderedFile[] {
  return files.map((f) => ({ path: f.path, content: f.content }));
}

/** The answer to apply and rollback. */
export function applyView(cluster: string, r: ApplyResult): z.output<typeof ApplyView> {
  return { cluster, published: r.published, version: versionView(r.version), diff: r.diff, checkOutput: r.checkOutput, ...(r.restored ? { restored: r.restored } : {}) };
}

/** The published version and the last refused automatic re-render of a cluster. */
export function publishStatus(
  latest: VersionMeta | undefined,
  lastError: { at: string; reason: string; output: string } | undefined,
): z.output<typeof PublishStatus> {
  return { published: latest ? versionView(latest) : null, lastError: lastError ?? null };
}
