/**
 * The availability read model: counts per (service node, route, backend) in 10 s buckets for the
 * last hour and 1 h buckets for the SLO windows, the batch numbering per agent source, the joined
 * runs of 5xx and the outlier state per backend. Every replica builds the same one from the
 * database and the change feed (`availability` topic), so any of them answers and decides alike.
 */
import { emptyHistogram, isFailure, mergeHistogram, type AccessSeries, type OutlierState } from '@canopy/core';

export const FINE_MS = 10_000;
export const HOUR_MS = 3_600_000;
/** How long fine buckets are kept, and hourly ones. */
export const FINE_KEEP_MS = HOUR_MS + 5 * 60_000;
export const HOURLY_KEEP_MS = 31 * 24 * HOUR_MS;

/** One bucket's counts. */
export interface Cell {
  statuses: Record<string, number>;
  latency: number[];
}

export interface Series {
  nodeId: number;
  domain: string;
  location: string;
  backend: string;
  fine: Map<number, Cell>;
  hourly: Map<number, Cell>;
}

/** A counted series as it travels in change events and rows: the service already resolved to its node. */
export interface CountedSeries extends Omit<AccessSeries, 'service' | 'runs'> {
  nodeId: number;
}

/** The sum of a window. */
export interface Totals {
  total: number;
  failed: number;
  statuses: Record<string, number>;
  latency: number[];
}

export const seriesKey = (nodeId: number, domain: string, location: string, backend: string) => `${nodeId}\u0000${domain}\u0000${location}\u0000${backend}`;
export const fineBucket = (ms: number) => Math.floor(ms / FINE_MS) * FINE_MS;
export const hourBucket = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;

/** Add `from` into `into`. */
export function addCell(into: Cell, from: { statuses: Record<string, number>; latency: readonly number[] }): void {
  for (const [k, n] of Object.entries(from.statuses)) into.statuses[k] = (into.statuses[k] ?? 0) + n;
  if (into.latency.length < from.latency.length) into.latency.push(...new Array<number>(from.latency.length - into.latency.length).fill(0));
  mergeHistogram(into.latency, from.latency);
}

export const emptyCell = (): Cell => ({ statuses: {}, latency: [] });

/** Build the model. */
export function createAvailabilityModel() {
  const series = new Map<string, Series>();
  const byNode = new Map<number, Set<Series>>();
  const sources = new Map<string, { machineId: number; lastSeq: number; lastFrom: number; lastTo: number }>();
  /** `${nodeId} ${backend}` → outlier state, with the instance an ejection drained. */
  const outliers = new Map<string, OutlierState & { nodeId: number; backend: string; hostname: string | null; port: number | null }>();
  /** `${source} ${nodeId} ${backend}` → the run of 5xx the source's last window ended with. */
  const runs = new Map<string, number>();
  /** `${nodeId} ${backend}` → attempts and successes since the last interval evaluation. */
  const interval = new Map<number, Map<string, { total: number; succeeded: number }>>();
  const lastInterval = new Map<number, number>();
  /** `${nodeId} ${backend}` → why detection last spared it (this replica's view, for display). */
  const spared = new Map<string, { reason: string; at: number }>();

  function get(nodeId: number, domain: string, location: string, backend: string): Series {
    const k = seriesKey(nodeId, domain, location, backend);
    let s = series.get(k);
    if (!s) {
      s = { nodeId, domain, location, backend, fine: new Map(), hourly: new Map() };
      series.set(k, s);
      let set = byNode.get(nodeId);
      if (!set) byNode.set(nodeId, (set = new Set()));
      set.add(s);
    }
    return s;
  }

  function addTo(map: Map<number, Cell>, bucket: number, from: { statuses: Record<string, number>; latency: readonly number[] }): void {
    let c = map.get(bucket);
    if (!c) map.set(bucket, (c = emptyCell()));
    addCell(c, from);
  }

  return {
    series,
    sources,
    outliers,
    runs,
    interval,
    lastInterval,
    spared,
    /** What a stored bucket holds now (a write merges into it). */
    cell(nodeId: number, domain: string, location: string, backend: string, tier: 0 | 1, bucket: number): Cell | undefined {
      const s = series.get(seriesKey(nodeId, domain, location, backend));
      return (tier === 0 ? s?.fine : s?.hourly)?.get(bucket);
    },
    /** Put a stored row (start-up). */
    loadRow(nodeId: number, domain: string, location: string, backend: string, tier: 0 | 1, bucket: number, cell: Cell): void {
      const s = get(nodeId, domain, location, backend);
      (tier === 0 ? s.fine : s.hourly).set(bucket, cell);
    },
    /** Count a window's series (a change event: every replica adds the same). */
    add(from: number, list: readonly CountedSeries[], fail: (nodeId: number) => readonly string[]): void {
      for (const c of list) {
        const s = get(c.nodeId, c.domain, c.location, c.backend);
        addTo(s.fine, fineBucket(from), c);
        addTo(s.hourly, hourBucket(from), c);
        if (c.backend === '') continue;
        let m = interval.get(c.nodeId);
        if (!m) interval.set(c.nodeId, (m = new Map()));
        const t = m.get(c.backend) ?? { total: 0, succeeded: 0 };
        const f = fail(c.nodeId);
        for (const [code, n] of Object.entries(c.statuses)) {
          t.total += n;
          if (!isFailure(Number(code), f)) t.succeeded += n;
        }
        m.set(c.backend, t);
      }
    },
    /** Drop buckets past their tier's keep time. */
    prune(now: number): void {
      for (const s of series.values()) {
        for (const b of s.fine.keys()) if (b < now - FINE_KEEP_MS) s.fine.delete(b);
        for (const b of s.hourly.keys()) if (b < now - HOURLY_KEEP_MS) s.hourly.delete(b);
        if (s.fine.size === 0 && s.hourly.size === 0) {
          series.delete(seriesKey(s.nodeId, s.domain, s.location, s.backend));
          byNode.get(s.nodeId)?.delete(s);
        }
      }
    },
    /** Series of a node. */
    seriesOf: (nodeId: number): Series[] => [...(byNode.get(nodeId) ?? [])],
    nodes: () => [...byNode.keys()],
    /**
     * Totals of `nodeId` over the window ending `now`: the final statuses (backend undefined) or one
     * backend's attempts. Windows up to an hour read 10 s buckets, longer ones hourly buckets.
     */
    totals(nodeId: number, opts: { backend?: string | undefined; windowMs: number; now: number; fail: readonly string[]; filter?: (s: Series) => boolean }): Totals {
      const out: Totals = { total: 0, failed: 0, statuses: {}, latency: emptyHistogram() };
      const fine = opts.windowMs <= HOUR_MS;
      const since = fine ? fineBucket(opts.now - opts.windowMs) : hourBucket(opts.now - opts.windowMs);
      for (const s of byNode.get(nodeId) ?? []) {
        if ((opts.backend === undefined ? s.backend !== '' : s.backend !== opts.backend) || (opts.filter && !opts.filter(s))) continue;
        for (const [b, c] of fine ? s.fine : s.hourly) {
          if (b < since) continue;
          addCell(out, c);
        }
      }
      for (const [code, n] of Object.entries(out.statuses)) {
        out.total += n;
        if (isFailure(Number(code), opts.fail)) out.failed += n;
      }
      return out;
    },
  };
}

export type AvailabilityModel = ReturnType<typeof createAvailabilityModel>;
