/**
 * Change fan-out for watchers: each watched path is indexed by the service it resolves to, so a
 * change reaches only its watchers; a bounded ring of recent changes lets a reconnecting watcher
 * resume from a revision. The ring keeps what changed, not answers: a resumed watcher is sent the
 * current answer of each path that changed, once, tagged with the revision of its last change.
 */
import type { Effect } from './records.ts';
import type { Resolution } from './registry.ts';

/** Called with a revision and the watched paths whose answer it may have changed. */
export type WatchListener = (revision: number, paths: string[]) => void;

/** One watch call: its listener, and the paths a publish found it concerned with. */
interface Watcher {
  listener: WatchListener;
  /** The publish that last collected paths here, and those paths. */
  mark: number;
  paths: string[];
}

interface Entry {
  path: string;
  watcher: Watcher;
  target: number | undefined;
  chain: string[];
}

interface RingItem {
  revision: number;
  nodeIds: number[];
  aliasPaths: string[];
  reroute: boolean;
}

export interface HubOptions {
  /** How many changes a watcher can fall behind and still resume without a snapshot. */
  ringSize: number;
}

export type Hub = ReturnType<typeof createHub>;

/** A hub resolving paths with `resolve`. */
export function createHub(resolve: (path: string) => Resolution, opts: HubOptions) {
  const byTarget = new Map<number, Set<Entry>>();
  const unresolved = new Set<Entry>();
  const all = new Set<Entry>();
  const ring: RingItem[] = [];
  let head = 0;
  let floor = 0;
  let publishes = 0;

  function place(e: Entry): void {
    if (e.target === undefined) unresolved.add(e);
    else {
      let s = byTarget.get(e.target);
      if (!s) byTarget.set(e.target, (s = new Set()));
      s.add(e);
    }
  }

  function unplace(e: Entry): void {
    if (e.target === undefined) unresolved.delete(e);
    else byTarget.get(e.target)?.delete(e);
  }

  function touches(chain: string[], aliasPaths: Set<string> | string[]): boolean {
    const set = aliasPaths instanceof Set ? aliasPaths : new Set(aliasPaths);
    return chain.some((p) => set.has(p));
  }

  function record(revision: number, e: Effect): void {
    if (revision <= floor) return;
    const item = { revision, nodeIds: [...e.nodeIds], aliasPaths: [...e.aliasPaths], reroute: e.reroute };
    if (ring.length < opts.ringSize) ring.push(item);
    else {
      floor = (ring[head] as RingItem).revision;
      ring[head] = item;
      head = (head + 1) % opts.ringSize;
    }
  }

  return {
    /** Watch `paths`; returns the function that stops watching. */
    watch(paths: readonly string[], listener: WatchListener): () => void {
      const watcher: Watcher = { listener, mark: 0, paths: [] };
      const mine = paths.map((path) => {
        const r = resolve(path);
        const e: Entry = { path, watcher, target: r.nodeId, chain: r.chain };
        all.add(e);
        place(e);
        return e;
      });
      return () => {
        for (const e of mine) {
          all.delete(e);
          unplace(e);
        }
      };
    },

    /** Record a change applied at `revision` and tell the watchers it concerns. */
    publish(revision: number, effect: Effect): void {
      if (effect.nodeIds.size === 0 && effect.aliasPaths.size === 0 && !effect.reroute) return;
      record(revision, effect);
      // Fan-out to thousands of watchers is the hot path: collect on the watchers themselves, no maps.
      const stamp = ++publishes;
      const hit: Watcher[] = [];
      const mark = (e: Entry) => {
        const w = e.watcher;
        if (w.mark !== stamp) {
          w.mark = stamp;
          w.paths = [];
          hit.push(w);
        }
        w.paths.push(e.path);
      };
      if (effect.reroute) {
        for (const e of all) {
          const r = resolve(e.path);
          const changed = r.nodeId !== e.target || r.chain.join() !== e.chain.join();
          if (changed || (r.nodeId !== undefined && effect.nodeIds.has(r.nodeId)) || touches(r.chain, effect.aliasPaths)) mark(e);
          if (r.nodeId !== e.target) {
            unplace(e);
            e.target = r.nodeId;
            place(e);
          }
          e.chain = r.chain;
        }
      } else {
        for (const id of effect.nodeIds) for (const e of byTarget.get(id) ?? []) mark(e);
      }
      for (const w of hit) w.listener(revision, w.paths);
    },

    /**
     * What changed for `paths` after `since`, as [revision, paths] in revision order, each path once
     * at its last change; undefined when the ring no longer reaches back that far.
     */
    changedSince(paths: readonly string[], since: number): [number, string[]][] | undefined {
      if (since < floor) return undefined;
      const last = new Map<string, number>();
      const current = paths.map((p) => ({ path: p, r: resolve(p) }));
      for (let k = 0; k < ring.length; k++) {
        const item = ring[(head + k) % ring.length] as RingItem;
        if (item.revision <= since) continue;
        const ids = new Set(item.nodeIds);
        for (const { path, r } of current) {
          const hit = (r.nodeId !== undefined && ids.has(r.nodeId)) || touches(r.chain, item.aliasPaths) || (r.nodeId === undefined && item.reroute);
          if (hit) last.set(path, item.revision);
        }
      }
      const byRev = new Map<number, string[]>();
      for (const [path, rev] of last) byRev.set(rev, [...(byRev.get(rev) ?? []), path]);
      return [...byRev.entries()].sort((a, b) => a[0] - b[0]);
    },

    /** Forget history up to `revision` (start-up: nothing before the snapshot is known). */
    reset(revision: number): void {
      ring.length = 0;
      head = 0;
      floor = revision;
    },

    /** The oldest revision a watcher may resume from. */
    floor: () => floor,
    watchers: () => all.size,
  };
}
