/**
 * The publisher's memory: the newest version of each cluster (fed by change events), its settings
 * snapshot and files loaded lazily, which clusters render which service nodes, the debounced
 * queue of clusters to re-render, and the watchers waiting for a newer version.
 */
import type { Queryable } from '../db/connection.ts';
import { iso } from '../tree/index.ts';
import { canonicalJson, sha256 } from './diff.ts';
import type { RenderedFile } from './model.ts';
import * as repo from './repo.ts';

/** A published version, without its files. */
export interface VersionMeta {
  kind: repo.ConfigKind;
  cluster: number;
  number: number;
  sha256: string;
  inputSha256: string;
  author: string;
  reason: string;
  rollbackOf: number | null;
  createdAt: string;
  /** Lines added and removed by the diff against the version before. */
  added: number;
  removed: number;
  /** The files, snapshot and diff were dropped by the retention policy; only this metadata remains. */
  contentPruned: boolean;
}

/** What this replica knows of one cluster's published config. */
export interface Entry<I, S> {
  meta: VersionMeta;
  /** The snapshot of `meta.number` once loaded; files only once asked for. */
  loaded?: { number: number; input: I; files?: RenderedFile[] } | undefined;
  /** The renderer's cache for `loaded.input` with the instances last seen. */
  state?: S | undefined;
  /** The last automatic re-render the real program refused (cleared by the next success). */
  lastError?: { at: string; reason: string; output: string } | undefined;
}

interface Staged<I, S> {
  input: I;
  files: RenderedFile[];
  state: S;
}

interface Waiter {
  after: number;
  wake(meta: VersionMeta | undefined): void;
}

export interface PublisherStateDeps<I> {
  db: Queryable;
  kind: repo.ConfigKind;
  renderer: { backendNodes(input: I): Iterable<number> };
  debounceMs: number;
  /** Re-render one cluster; `publish` false when only another replica's version needs loading. */
  refresh(cluster: number, changed: ReadonlySet<number>, publish: boolean): Promise<void>;
  /** The error for asking a pruned version for its files. */
  pruned(cluster: number, number: number): Error;
  onError(err: unknown): void;
}

/** Memory for one publisher. */
export function createPublisherState<I, S>(deps: PublisherStateDeps<I>) {
  const entries = new Map<number, Entry<I, S>>();
  const staged = new Map<string, Staged<I, S>>();
  const byNode = new Map<number, Set<number>>();
  const nodesOf = new Map<number, number[]>();
  const waiters = new Map<number, Set<Waiter>>();
  // Hashing a 10,000-service snapshot costs ~100 ms; a loaded or staged snapshot is hashed once.
  const inputShas = new WeakMap<object, string>();

  function inputSha(input: I): string {
    const key = typeof input === 'object' && input !== null ? input : undefined;
    const known = key && inputShas.get(key);
    if (known) return known;
    const sha = sha256(canonicalJson(input));
    if (key) inputShas.set(key, sha);
    return sha;
  }

  function remember(input: I, sha: string): void {
    if (typeof input === 'object' && input !== null) inputShas.set(input, sha);
  }
  let dirty = new Map<number, { nodes: Set<number>; publish: boolean }>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  function reindex(cluster: number, input: I): void {
    for (const n of nodesOf.get(cluster) ?? []) byNode.get(n)?.delete(cluster);
    const nodes = [...deps.renderer.backendNodes(input)];
    nodesOf.set(cluster, nodes);
    for (const n of nodes) {
      let s = byNode.get(n);
      if (!s) byNode.set(n, (s = new Set()));
      s.add(cluster);
    }
  }

  function mark(cluster: number, nodeId: number | undefined, publish: boolean): void {
    let d = dirty.get(cluster);
    if (!d) dirty.set(cluster, (d = { nodes: new Set(), publish }));
    if (nodeId !== undefined) d.nodes.add(nodeId);
    d.publish ||= publish;
    if (stopped) return;
    // The first change starts the clock; later ones join it, so a busy service cannot starve it.
    timer ??= setTimeout(() => void flush().catch(deps.onError), deps.debounceMs);
  }

  async function flush(): Promise<void> {
    while (running) await running;
    clearTimeout(timer);
    timer = undefined;
    const work = dirty;
    dirty = new Map();
    running = (async () => {
      for (const [cluster, d] of work) {
        try {
          await deps.refresh(cluster, d.nodes, d.publish);
        } catch (err) {
          deps.onError(err);
        }
      }
    })();
    await running;
    running = undefined;
  }

  async function loaded(cluster: number): Promise<Entry<I, S> | undefined> {
    const e = entries.get(cluster);
    if (!e || e.loaded?.number === e.meta.number) return e;
    const row = await repo.getVersion(deps.db, deps.kind, cluster, e.meta.number);
    const input = row && ((await repo.getInput(deps.db, row.inputSha256)) as I | undefined);
    if (row && input !== undefined && e.meta.number === row.number && e.loaded?.number !== row.number) {
      remember(input, row.inputSha256);
      e.loaded = { number: row.number, input };
      e.state = undefined;
      reindex(cluster, input);
    }
    return e;
  }

  return {
    entry: (cluster: number) => entries.get(cluster),
    loaded,
    /** sha256 of the snapshot's canonical JSON, hashed once per snapshot object. */
    inputSha,

    metaOf(row: repo.VersionSummaryRow): VersionMeta {
      return {
        kind: row.kind, cluster: row.clusterNodeId, number: row.number, sha256: row.sha256, inputSha256: row.inputSha256,
        author: row.author, reason: row.reason, rollbackOf: row.rollbackOf, createdAt: iso(row.createdAt),
        added: row.added, removed: row.removed, contentPruned: row.prunedAt !== null,
      };
    },

    /** Keep what this replica rendered for a version it is committing, so adopting it costs no reload. */
    stage(meta: VersionMeta, data: Staged<I, S>): void {
      staged.set(`${meta.cluster}:${meta.number}`, data);
    },
    unstage: (meta: { cluster: number; number: number }) => staged.delete(`${meta.cluster}:${meta.number}`),

    /** A version was published (by any replica): make it current and wake its watchers. */
    adopt(published: VersionMeta): void {
      // A replica not yet upgraded announces versions without diff stats.
      const meta: VersionMeta = { ...published, added: published.added ?? 0, removed: published.removed ?? 0, contentPruned: false };
      const key = `${meta.cluster}:${meta.number}`;
      const mine = staged.get(key);
      staged.delete(key);
      const e = entries.get(meta.cluster);
      if (e && e.meta.number >= meta.number) return;
      const entry: Entry<I, S> = e ?? { meta };
      entry.meta = meta;
      entries.set(meta.cluster, entry);
      if (mine) {
        entry.loaded = { number: meta.number, input: mine.input, files: mine.files };
        entry.state = mine.state;
        reindex(meta.cluster, mine.input);
      } else {
        entry.loaded = undefined;
        entry.state = undefined;
        mark(meta.cluster, undefined, false);
      }
      for (const w of waiters.get(meta.cluster) ?? []) if (meta.number > w.after) w.wake(meta);
    },

    /** The files of version `number` (from memory when it is the loaded one). */
    async filesOf(cluster: number, number: number, row?: repo.VersionRow): Promise<RenderedFile[]> {
      const e = entries.get(cluster);
      if (e?.loaded?.number === number && e.loaded.files) return e.loaded.files;
      const v = row ?? (await repo.getVersion(deps.db, deps.kind, cluster, number));
      if (!v) return [];
      if (v.prunedAt !== null) throw deps.pruned(cluster, number);
      const contents = await repo.getBlobs(deps.db, v.files.map((f) => f.sha256));
      if (v.files.some((f) => !contents.has(f.sha256)) && (await repo.getVersion(deps.db, deps.kind, cluster, number))?.prunedAt) {
        throw deps.pruned(cluster, number); // pruned by a publication since the row was read
      }
      const files = v.files.map((f) => {
        const content = contents.get(f.sha256);
        if (content === undefined) throw new Error(`config blob ${f.sha256} of ${deps.kind} cluster ${cluster} v${number} is missing`);
        return { path: f.path, content, sha256: f.sha256 };
      });
      if (e?.loaded?.number === number) e.loaded.files = files;
      return files;
    },

    /** Instances of these service nodes changed: re-render the clusters that serve them, debounced. */
    backendsChanged(nodeIds: readonly number[]): void {
      for (const id of nodeIds) for (const cluster of byNode.get(id) ?? []) mark(cluster, id, true);
    },

    flush,

    waitFor(cluster: number, after: number, waitMs: number): Promise<VersionMeta | undefined> {
      const meta = entries.get(cluster)?.meta;
      if (meta && meta.number > after) return Promise.resolve(meta);
      return new Promise((resolve) => {
        let set = waiters.get(cluster);
        if (!set) waiters.set(cluster, (set = new Set()));
        const w: Waiter = {
          after,
          wake(m) {
            clearTimeout(t);
            set.delete(w);
            resolve(m);
          },
        };
        const t = setTimeout(() => w.wake(undefined), waitMs);
        set.add(w);
      });
    },

    /** Load the newest version of every cluster; every cluster is re-rendered once, in case instances changed while down. */
    async load(q: Queryable): Promise<void> {
      entries.clear();
      byNode.clear();
      nodesOf.clear();
      for (const row of await repo.latestVersions(q, deps.kind)) {
        const meta = this.metaOf(row);
        remember(row.input as I, meta.inputSha256);
        entries.set(meta.cluster, { meta, loaded: { number: meta.number, input: row.input as I } });
        reindex(meta.cluster, row.input as I);
        mark(meta.cluster, undefined, true);
      }
    },

    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      await running;
      for (const set of waiters.values()) for (const w of [...set]) w.wake(undefined);
    },
  };
}
