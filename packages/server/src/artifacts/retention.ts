/**
 * Retention: per service the newest N versions, every version deployed in the last M days, and
 * never one running (asked of the deploy capability through `inUse`). Runs after each push and on a
 * timer; every decision and deletion happens inside one write, under the global write lock, so a
 * blob is deleted only when no row names it and no push can add one in between.
 */
import { ConflictError, artifactRef, pickRetained, type PruneResult } from '@canopy/core';
import { SYSTEM_ACTOR, type Actor, type WriteContext, type Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import type { TreeService } from '../tree/index.ts';
import * as repo from './repo.ts';
import type { BlobStore } from './store.ts';

/**
 * Versions of the node at `nodePath` running on some machine now. Called inside the write that
 * removes versions, with its transaction: query with `tx` only (the outer database would deadlock).
 */
export type InUse = (nodePath: string, tx: Queryable) => readonly string[] | Promise<readonly string[]>;

export interface RetentionDeps {
  writer: Writer;
  db: Queryable;
  tree: TreeService;
  store: BlobStore;
  inUse?: InUse | undefined;
  onError?: ((err: unknown) => void) | undefined;
}

/** The retention machinery of one repository. */
export function createRetention(deps: RetentionDeps, opts: { retention: { keepLast: number; keepDeployedDays: number }; sweepMinutes: number }) {
  const { writer, db, tree, store } = deps;
  let timer: NodeJS.Timeout | undefined;
  const pathOf = (nodeId: number) => tree.model.get(nodeId)?.path ?? `#${nodeId}`;

  async function inUse(nodeId: number, tx: Queryable): Promise<Set<string>> {
    return new Set(deps.inUse ? await deps.inUse(pathOf(nodeId), tx) : []);
  }

  /** Delete rows, audit them, and the blobs no row names any more. */
  async function drop(w: WriteContext, nodeId: number, versions: string[], why: string): Promise<repo.ArtifactRow[]> {
    const gone = await repo.deleteVersions(w.tx, nodeId, versions);
    const nodePath = pathOf(nodeId);
    for (const r of gone) {
      w.audit({ operation: 'artifact.delete', targetKind: 'artifact', target: artifactRef(nodePath, r.version), nodeId, nodePath, before: { sha256: r.sha256, size: r.size, reason: why } });
      w.emit('artifact', { nodeId, version: r.version, sha256: r.sha256, action: 'delete' });
    }
    // Inside the write: a push stores its blob and then, under this same lock, checks it is still there.
    for (const sha of await repo.unreferenced(w.tx, gone.map((r) => r.sha256))) await store.delete(sha);
    return gone;
  }

  async function pruneNode(nodeId: number): Promise<PruneResult> {
    return writer.run(SYSTEM_ACTOR, async (w) => {
      const all = await repo.versionsOf(w.tx, nodeId);
      const { keep, remove } = pickRetained(all, opts.retention, await inUse(nodeId, w.tx), new Date());
      if (remove.length === 0) return { removed: [], kept: keep.length, freedBytes: 0 };
      const gone = await drop(w, nodeId, remove, 'retention');
      return { removed: gone.map((r) => artifactRef(pathOf(nodeId), r.version)), kept: keep.length, freedBytes: gone.reduce((n, r) => n + r.size, 0) };
    });
  }

  async function pruneAll(): Promise<PruneResult> {
    const total: PruneResult = { removed: [], kept: 0, freedBytes: 0 };
    for (const id of await repo.nodesWithArtifacts(db)) {
      const r = await pruneNode(id);
      total.removed.push(...r.removed);
      total.kept += r.kept;
      total.freedBytes += r.freedBytes;
    }
    return total;
  }

  return {
    pruneNode,
    pruneAll,
    /** One version removed by an operator; refused while it runs somewhere. */
    async removeVersion(actor: Actor, nodeId: number, version: string): Promise<void> {
      await writer.run(actor, async (w) => {
        if ((await inUse(nodeId, w.tx)).has(version)) {
          throw new ConflictError(`${artifactRef(pathOf(nodeId), version)} is running on machines of the service: deploy another version first`, { version });
        }
        await drop(w, nodeId, [version], 'removed by hand');
      });
    },
    start(): void {
      if (opts.sweepMinutes <= 0 || timer) return;
      timer = setInterval(() => void pruneAll().catch((err: unknown) => deps.onError?.(err)), opts.sweepMinutes * 60_000);
      timer.unref();
    },
    stop(): void {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
