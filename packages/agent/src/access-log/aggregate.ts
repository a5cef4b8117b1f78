/**
 * Counting access-log lines into one window's series: per (domain, location → service) the final
 * `$status` of each request, and per backend address every upstream attempt, each with a latency
 * histogram and its runs of consecutive 5xx (joined across windows by the control center).
 */
import { bucketOf, emptyHistogram, isBackendAddress, parseAccessLine, type AccessLine, type AccessRoute, type AccessSeries } from '@canopy/core';

interface Cell {
  series: AccessSeries;
  latency: number[];
}

/** Routes of one domain, longest location first (nginx picks the longest matching prefix). */
type RouteTable = Map<string, AccessRoute[]>;

/** Build the lookup from the document's routes. */
export function routeTable(routes: readonly AccessRoute[]): RouteTable {
  const t: RouteTable = new Map();
  for (const r of routes) {
    const d = r.domain.toLowerCase();
    t.set(d, [...(t.get(d) ?? []), r]);
  }
  for (const list of t.values()) list.sort((a, b) => b.location.length - a.location.length || (a.location < b.location ? -1 : 1));
  return t;
}

/** The route a request took, by its host and URI. */
export function routeOf(t: RouteTable, line: Pick<AccessLine, 'host' | 'uri'>): AccessRoute | undefined {
  const list = t.get(line.host);
  if (!list) return undefined;
  for (const r of list) if (line.uri.startsWith(r.location)) return r;
  return undefined;
}

/** A window's counts; `take()` hands them over and starts the next window. */
export function createAggregator() {
  let table: RouteTable = new Map();
  let cells = new Map<string, Cell>();
  /** Backends of this window that answered something other than 5xx already. */
  const answered = new Set<Cell>();
  let lines = 0;
  let unmatched = 0;

  function cell(r: AccessRoute, backend: string): Cell {
    const key = `${r.domain}\u0000${r.location}\u0000${r.service}\u0000${backend}`;
    let c = cells.get(key);
    if (!c) {
      c = { series: { domain: r.domain, location: r.location, service: r.service, backend, statuses: {}, latency: [] }, latency: emptyHistogram() };
      if (backend !== '') c.series.runs = { lead: 0, longest: 0, trail: 0 };
      cells.set(key, c);
    }
    return c;
  }

  function count(c: Cell, status: number, seconds: number): void {
    const k = String(status);
    c.series.statuses[k] = (c.series.statuses[k] ?? 0) + 1;
    if (!Number.isNaN(seconds)) c.latency[bucketOf(seconds)]!++;
  }

  return {
    setRoutes(routes: readonly AccessRoute[]): void {
      table = routeTable(routes);
    },
    /** Count one raw line; false when it was not one of ours or matched no route. */
    add(raw: string): boolean {
      const line = parseAccessLine(raw);
      lines++;
      const r = line && routeOf(table, line);
      if (!line || !r) {
        unmatched++;
        return false;
      }
      count(cell(r, ''), line.status, line.seconds);
      for (const a of line.attempts) {
        if (!isBackendAddress(a.addr) || a.status === 0) continue;
        const c = cell(r, a.addr);
        count(c, a.status, a.seconds);
        const runs = c.series.runs!;
        if (a.status >= 500) {
          runs.trail++;
          if (!answered.has(c)) runs.lead++;
          if (runs.trail > runs.longest) runs.longest = runs.trail;
        } else {
          runs.trail = 0;
          answered.add(c);
        }
      }
      return true;
    },
    /** This window's series; the next window starts empty. */
    take(): AccessSeries[] {
      const out = [...cells.values()].map((c) => {
        let last = c.latency.length;
        while (last > 0 && c.latency[last - 1] === 0) last--;
        return { ...c.series, latency: c.latency.slice(0, last) };
      });
      cells = new Map();
      answered.clear();
      return out;
    },
    stats: () => ({ lines, unmatched }),
  };
}

export type Aggregator = ReturnType<typeof createAggregator>;
