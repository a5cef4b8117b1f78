/**
 * The dependency graph: edges declared by operators plus edges observed from authenticated lookups
 * (caller's node → callee). Lookups are counted in memory and added to the database in batches, so
 * a hot resolve path never waits on a write.
 */
import type { GraphView } from '@canopy/core';

/** One observed edge as counted since the last flush. */
export interface ObservedBatchItem {
  caller: number;
  callee: number;
  calls: number;
  lastSeenMs: number;
}

export interface EdgeRecorderOptions {
  flushEveryMs: number;
  /** Flush early once this many distinct edges are pending. */
  maxPending: number;
}

export type EdgeRecorder = ReturnType<typeof createEdgeRecorder>;

/** Counts lookups per edge and hands them to `write` in batches. */
export function createEdgeRecorder(write: (batch: ObservedBatchItem[]) => Promise<void>, clock: () => number, opts: EdgeRecorderOptions, onError: (err: unknown) => void) {
  let pending = new Map<string, ObservedBatchItem>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  function flush(): Promise<void> {
    const batch = [...pending.values()];
    pending = new Map();
    if (batch.length === 0) return running;
    running = running.then(() => write(batch)).catch(onError);
    return running;
  }

  return {
    record(caller: number, callee: number): void {
      if (caller === callee) return;
      const key = `${caller}>${callee}`;
      const e = pending.get(key);
      if (e) {
        e.calls++;
        e.lastSeenMs = clock();
      } else pending.set(key, { caller, callee, calls: 1, lastSeenMs: clock() });
      if (pending.size >= opts.maxPending) void flush();
    },
    /** Counted but not yet written. */
    pending: () => [...pending.values()],
    flush,
    start(): void {
      timer = setInterval(() => void flush(), opts.flushEveryMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      await flush();
    },
  };
}

/** An edge between two nodes, from either source. */
export interface Edge {
  from: number;
  to: number;
  declared: boolean;
  observedCalls: number;
  lastSeen: string | null;
}

/**
 * Walk both directions from `root` up to `depth` hops. `edgesTouching` returns every edge with an
 * end among the given node ids; `describe` names a node, or returns undefined to hide it (the
 * caller may not see it, or it is gone) — hidden nodes and their edges are left out.
 */
export async function buildGraph(
  root: number,
  depth: number,
  edgesTouching: (ids: number[]) => Promise<Edge[]>,
  describe: (id: number) => { path: string; service: boolean } | undefined,
): Promise<GraphView> {
  const seen = new Set([root]);
  const edges = new Map<string, Edge>();
  let frontier = [root];
  for (let d = 0; d < depth && frontier.length > 0; d++) {
    const next: number[] = [];
    for (const e of await edgesTouching(frontier)) {
      if (!describe(e.from) || !describe(e.to)) continue;
      edges.set(`${e.from}>${e.to}`, e);
      for (const id of [e.from, e.to]) {
        if (!seen.has(id)) {
          seen.add(id);
          next.push(id);
        }
      }
    }
    frontier = next;
  }
  const pathOf = (id: number) => describe(id)?.path ?? `#${id}`;
  const list = [...edges.values()].sort((a, b) => pathOf(a.from).localeCompare(pathOf(b.from)) || pathOf(a.to).localeCompare(pathOf(b.to)));
  const nodes = [...seen].flatMap((id) => {
    const d = describe(id);
    return d ? [{ id, path: d.path, service: d.service }] : [];
  });
  return {
    root: pathOf(root),
    depth,
    nodes: nodes.sort((a, b) => a.path.localeCompare(b.path)),
    edges: list.map((e) => ({ from: pathOf(e.from), to: pathOf(e.to), declared: e.declared, observedCalls: e.observedCalls, lastSeen: e.lastSeen })),
    upstreams: list.filter((e) => e.from === root).map((e) => pathOf(e.to)),
    downstreams: list.filter((e) => e.to === root).map((e) => pathOf(e.from)),
  };
}

/** Merge declared, stored and pending observed edges into one edge per (from, to). */
export function mergeEdges(
  declared: [number, number][],
  stored: { caller: number; callee: number; calls: number; lastSeen: string }[],
  pending: ObservedBatchItem[],
): Edge[] {
  const out = new Map<string, Edge>();
  const get = (from: number, to: number) => {
    const k = `${from}>${to}`;
    let e = out.get(k);
    if (!e) out.set(k, (e = { from, to, declared: false, observedCalls: 0, lastSeen: null }));
    return e;
  };
  for (const [from, to] of declared) get(from, to).declared = true;
  for (const s of stored) {
    const e = get(s.caller, s.callee);
    e.observedCalls += s.calls;
    e.lastSeen = later(e.lastSeen, new Date(s.lastSeen).toISOString());
  }
  for (const p of pending) {
    const e = get(p.caller, p.callee);
    e.observedCalls += p.calls;
    e.lastSeen = later(e.lastSeen, new Date(p.lastSeenMs).toISOString());
  }
  return [...out.values()];
}

function later(a: string | null, b: string): string {
  return a === null || b > a ? b : a;
}
