/**
 * The artifact repository: immutable versions per service node, content-addressed by sha256.
 * Bytes are spooled and hashed before anything is written; the row commits under the write lock
 * with its audit entry; blobs are shared by identical content and deleted with their last row.
 */
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ConflictError, NotFoundError, ValidationError, artifactRef, artifactVersionProblem, type ArtifactView, type ByteRange, type PruneResult } from '@canopy/core';
import type { Actor, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import type { TreeService } from '../tree/index.ts';
import type { ArtifactOptions } from './config.ts';
import * as repo from './repo.ts';
import { cleanSpool, createFsStore, spool, type BlobStore } from './store.ts';
import { createS3Store } from './s3.ts';
import { createRetention, type InUse } from './retention.ts';

export const ARTIFACT_TOPIC = 'artifact';

export interface PutInput {
  nodePath: string;
  version: string;
  body: NodeJS.ReadableStream;
  /** Expected digest: a body that does not match is refused and nothing is kept. */
  sha256?: string | undefined;
  commit?: string | null | undefined;
  /** The build machine's hostname, or what the pusher says built it. */
  builder?: string | null | undefined;
  buildId?: number | null | undefined;
  /** Reference to the build log (a build's log URL). */
  log?: string | null | undefined;
}

export interface ArtifactDeps {
  writer: Writer;
  db: Queryable;
  tree: TreeService;
  /** Versions running now on a node's machines: retention never removes them (the deploy capability answers). */
  inUse?: InUse | undefined;
  onError?: ((err: unknown) => void) | undefined;
}

export type ArtifactService = ReturnType<typeof createArtifactService>;

/** Build the repository over the store the options name (data dir, or S3 when a bucket is set). */
export function createArtifactService(deps: ArtifactDeps, opts: Readonly<ArtifactOptions>) {
  const { writer, db, tree } = deps;
  const store: BlobStore = opts.s3 ? createS3Store(opts.s3) : createFsStore(opts.dir);
  const spoolDir = join(opts.dir, 'tmp');

  function nodeOf(path: string) {
    const node = tree.model.byPath(path);
    if (!node) throw new NotFoundError('node', path);
    return node;
  }
  function view(r: repo.ArtifactRow): ArtifactView {
    const nodePath = tree.model.get(r.nodeId)?.path ?? `#${r.nodeId}`;
    const { nodeId: _n, ...rest } = r;
    return { ...rest, nodePath, ref: artifactRef(nodePath, r.version), url: `/api/v1/artifacts/${nodePath}/${encodeURIComponent(r.version)}` };
  }
  function checkVersion(version: string): void {
    const p = artifactVersionProblem(version);
    if (p) throw new ValidationError(`invalid version '${version}'`, [{ path: ['version'], message: p }]);
  }
  function immutable(ref: string, have: string, got: string): ConflictError {
    return new ConflictError(`${ref} exists with other content (sha256 ${have}, this body ${got}): versions are immutable, push a new version`, { ref, sha256: have });
  }

  const retention = createRetention({ writer, db, tree, store, inUse: deps.inUse, onError: deps.onError }, opts);

  /** Store a version; `created` is false when the same content was already there under it. */
  async function push(actor: Actor, input: PutInput): Promise<{ view: ArtifactView; created: boolean }> {
    checkVersion(input.version);
    const node = nodeOf(input.nodePath);
    const ref = artifactRef(node.path, input.version);
    const before = await repo.findVersion(db, node.id, input.version);
    // Refused before a byte is stored; the body is left to the HTTP server to drain (destroying it
    // would cut the socket the answer goes out on).
    if (before && input.sha256 && before.sha256 !== input.sha256) throw immutable(ref, before.sha256, input.sha256);
    const body = await spool(input.body, spoolDir, opts.maxBytes);
    try {
      if (body.size === 0) throw new ValidationError('an artifact may not be empty: nothing was kept', [{ path: ['body'], message: 'is empty' }]);
      if (input.sha256 && input.sha256 !== body.sha256) {
        throw new ValidationError(`the body's sha256 is ${body.sha256}, not the ${input.sha256} given: nothing was kept`, [{ path: ['sha256'], message: 'does not match the body' }]);
      }
      if (!before) await store.put(body.sha256, body.file, body.size);
      const out = await writer.run(actor, async (w) => {
        const existing = await repo.findVersion(w.tx, node.id, input.version);
        if (existing) {
          if (existing.sha256 === body.sha256) return { row: existing, created: false };
          // A blob stored only for this refused push goes again, under the lock that orders deletions.
          for (const sha of await repo.unreferenced(w.tx, [body.sha256])) await store.delete(sha);
          throw immutable(ref, existing.sha256, body.sha256);
        }
        // A retention sweep may have deleted the blob (no row named it yet) since it was stored above.
        if (!(await store.has(body.sha256))) await store.put(body.sha256, body.file, body.size);
        const row = await repo.insertArtifact(w.tx, {
          nodeId: node.id,
          version: input.version,
          sha256: body.sha256,
          size: body.size,
          commit: input.commit ?? null,
          builder: input.builder ?? null,
          buildId: input.buildId ?? null,
          log: input.log ?? null,
          createdBy: actor.name,
        });
        const after = { sha256: row.sha256, size: row.size, commit: row.commit, builder: row.builder, buildId: row.buildId };
        w.audit({ operation: 'artifact.push', targetKind: 'artifact', target: ref, nodeId: node.id, nodePath: node.path, after });
        w.emit(ARTIFACT_TOPIC, { nodeId: node.id, version: row.version, sha256: row.sha256, action: 'push' });
        return { row, created: true };
      });
      if (out.created) await retention.pruneNode(node.id).catch((err: unknown) => deps.onError?.(err));
      return { view: view(out.row), created: out.created };
    } finally {
      await body.discard();
    }
  }

  async function row(nodePath: string, version: string): Promise<repo.ArtifactRow> {
    checkVersion(version);
    const node = nodeOf(nodePath);
    const r = await repo.findVersion(db, node.id, version);
    if (!r) throw new NotFoundError('artifact', artifactRef(node.path, version));
    return r;
  }

  return {
    store,
    push,
    /** Store a version (streams to storage while hashing); the same content again is accepted as is. */
    async put(actor: Actor, input: PutInput): Promise<ArtifactView> {
      return (await push(actor, input)).view;
    },
    /** One version's metadata. */
    async get(nodePath: string, version: string): Promise<ArtifactView> {
      return view(await row(nodePath, version));
    },
    /** A version's bytes (or a range of them), with its metadata. */
    async open(nodePath: string, version: string, range?: ByteRange): Promise<{ view: ArtifactView; body: Readable }> {
      const r = await row(nodePath, version);
      return { view: view(r), body: await store.read(r.sha256, range) };
    },
    /** Versions of a node and (with `subtree`) of every node below it, newest first. */
    async list(nodePath: string, q: { limit: number; cursor?: string | undefined; subtree?: boolean }): Promise<{ items: ArtifactView[]; nextCursor: string | null }> {
      const node = nodeOf(nodePath);
      const ids = q.subtree ? tree.model.subtreeIds(node.id) : [node.id];
      const rows = await repo.listVersions(db, ids, q.limit, q.cursor ? Number(q.cursor) : undefined);
      return { items: rows.map(view), nextCursor: rows.length === q.limit ? String(rows.at(-1)!.id) : null };
    },
    /** Remove one version by hand; a version running somewhere is refused (409). */
    async remove(actor: Actor, nodePath: string, version: string): Promise<void> {
      const r = await row(nodePath, version);
      await retention.removeVersion(actor, r.nodeId, version);
    },
    /** Record that a deployment of the version starts (retention keeps recently deployed versions). */
    async markDeployed(actor: Actor, nodePath: string, version: string): Promise<void> {
      const r = await row(nodePath, version);
      await writer.run(actor, async (w) => {
        await repo.markDeployed(w.tx, r.nodeId, version);
      });
    },
    /** Apply retention to one service, or to every service when `nodePath` is omitted. */
    async prune(nodePath?: string): Promise<PruneResult> {
      if (nodePath !== undefined) return retention.pruneNode(nodeOf(nodePath).id);
      return retention.pruneAll();
    },
    start(): void {
      retention.start();
      // Uploads cut short by a crash leave their spool files; a day is far longer than any upload.
      void cleanSpool(spoolDir, 86_400_000).catch((err: unknown) => deps.onError?.(err));
    },
    async stop(): Promise<void> {
      retention.stop();
      await store.close();
    },
  };
}
