/**
 * The in-memory machine index: the few fields that filter and order listings, and each machine's
 * nodes. It answers "which machines are in this subtree, in hostname order, and how many" without
 * scanning tables, so the first page of a 100,000-machine subtree costs milliseconds; the page's
 * full rows then come from the database by id.
 */
import type { TreeModel } from '../tree/index.ts';

export interface MachineLite {
  id: number;
  hostname: string;
  status: string;
  zone: string;
  idc: string;
  serial: string;
  ips: string[];
  nodeIds: number[];
}

export interface MachineFilter {
  under?: number | undefined;
  status?: string | undefined;
  zone?: string | undefined;
  idc?: string | undefined;
  q?: string | undefined;
}

/** Below this many candidates a page is found by sorting them; above it, by walking the global order. */
const SMALL = 4096;

export type MachineModel = ReturnType<typeof createMachineModel>;

/** An empty index over `tree`. */
export function createMachineModel(tree: TreeModel) {
  const byId = new Map<number, MachineLite>();
  const byHost = new Map<string, MachineLite>();
  const byNode = new Map<number, Set<number>>();
  // Hostnames in order; kept sorted by binary insertion (imports add many rows: still O(n) each).
  let order: string[] = [];
  // Distinct machines per subtree, valid for one (machine version, tree generation) pair.
  const subtreeCounts = new Map<number, number>();
  let countsKey = '';
  let version = 0;

  function indexOf(hostname: string): number {
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((order[mid] as string) < hostname) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function unlink(m: MachineLite): void {
    for (const n of m.nodeIds) byNode.get(n)?.delete(m.id);
  }

  function link(m: MachineLite): void {
    for (const n of m.nodeIds) {
      let s = byNode.get(n);
      if (!s) byNode.set(n, (s = new Set()));
      s.add(m.id);
    }
  }

  function matcher(f: MachineFilter): (m: MachineLite) => boolean {
    const q = f.q;
    return (m) =>
      (!f.status || m.status === f.status) &&
      (!f.zone || m.zone === f.zone) &&
      (!f.idc || m.idc === f.idc) &&
      (!q || m.hostname.includes(q) || m.serial === q || m.ips.some((ip) => ip.includes(q)));
  }

  return {
    get: (id: number) => byId.get(id),
    byHostname: (hostname: string) => byHost.get(hostname),
    size: () => byId.size,

    load(all: MachineLite[]): void {
      version++;
      byId.clear();
      byHost.clear();
      byNode.clear();
      for (const m of all) {
        byId.set(m.id, m);
        byHost.set(m.hostname, m);
        link(m);
      }
      order = [...byHost.keys()].sort();
    },

    upsert(m: MachineLite): void {
      version++;
      const old = byId.get(m.id);
      if (old) {
        unlink(old);
        if (old.hostname !== m.hostname) {
          byHost.delete(old.hostname);
          order.splice(indexOf(old.hostname), 1);
        }
      }
      if (!old || old.hostname !== m.hostname) order.splice(indexOf(m.hostname), 0, m.hostname);
      byId.set(m.id, m);
      byHost.set(m.hostname, m);
      link(m);
    },

    /** Machines bound anywhere in the subtree, each counted once. */
    subtreeCount(nodeId: number): number {
      const key = `${version}/${tree.generation()}`;
      if (key !== countsKey) {
        subtreeCounts.clear();
        countsKey = key;
      }
      let n = subtreeCounts.get(nodeId);
      if (n === undefined) {
        const seen = new Set<number>();
        for (const id of tree.subtreeIds(nodeId)) for (const m of byNode.get(id) ?? []) seen.add(m);
        subtreeCounts.set(nodeId, (n = seen.size));
      }
      return n;
    },

    /** Ids of one page in hostname order after `after`, and the total matching the filter. */
    query(f: MachineFilter, limit: number, after: string | undefined): { ids: number[]; total: number } {
      const match = matcher(f);
      let candidates: Set<number> | undefined;
      if (f.under !== undefined) {
        candidates = new Set();
        for (const nodeId of tree.subtreeIds(f.under)) for (const id of byNode.get(nodeId) ?? []) candidates.add(id);
      }
      const filtered = f.status || f.zone || f.idc || f.q;
      if (candidates && candidates.size <= SMALL) {
        const hits = [...candidates].map((id) => byId.get(id) as MachineLite).filter(match);
        hits.sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
        const start = after === undefined ? 0 : hits.findIndex((m) => m.hostname > after);
        const page = start < 0 ? [] : hits.slice(start, start + limit);
        return { ids: page.map((m) => m.id), total: hits.length };
      }
      let total = candidates ? candidates.size : byId.size;
      if (filtered) {
        total = 0;
        if (candidates) for (const id of candidates) total += match(byId.get(id) as MachineLite) ? 1 : 0;
        else for (const m of byId.values()) total += match(m) ? 1 : 0;
      }
      const ids: number[] = [];
      for (let i = after === undefined ? 0 : indexOf(after); i < order.length && ids.length < limit; i++) {
        const host = order[i] as string;
        if (after !== undefined && host <= after) continue;
        const m = byHost.get(host) as MachineLite;
        if ((!candidates || candidates.has(m.id)) && match(m)) ids.push(m.id);
      }
      return { ids, total };
    },
  };
}
