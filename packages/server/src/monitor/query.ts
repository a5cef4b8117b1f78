/**
 * Dashboard reads over the embedded store: a metric over a subtree's machines, aggregated (avg,
 * max, min, sum, p95) per step, optionally one series per machine or per label value; and the
 * top machines by a metric. The source is the coarsest one that covers the range at the step
 * asked (raw for the last hour, then the 1 min, 10 min and 1 h tiers), so a 7-day chart of 1,000
 * machines decodes about 170 points per machine, not 60,000.
 */
import { autoStep, bucketise, combine, labelsMatch, parseMatch, ValidationError, type MonitorQueryParams, type MonitorQueryResult, type MonitorTopParams, type MonitorTopResult } from '@canopy/core';
import type { History } from './history.ts';
import type { SeriesState } from './store.ts';

/** The machines a read covers. */
export interface Scope {
  /** Dotted path of the node (Prometheus mode matches it against `canopy_paths`). */
  path: string;
  machines: { id: number; hostname: string }[];
}

/** Where dashboards read from: the embedded store or Prometheus. */
export interface MetricsBackend {
  readonly source: 'canopy' | 'prometheus';
  query(p: MonitorQueryParams, scope: Scope, fromMs: number, toMs: number): Promise<MonitorQueryResult>;
  top(p: MonitorTopParams, scope: Scope): Promise<MonitorTopResult>;
}

/** At most this many series in one answer (by=machine over a big subtree). */
const MAX_SERIES = 5000;

export function matchOf(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  try {
    return parseMatch(text);
  } catch (err) {
    throw new ValidationError('bad label filter', [{ path: ['match'], message: (err as Error).message }]);
  }
}

/** The embedded store as a dashboard backend. */
export function canopyBackend(history: History, now: () => number = Date.now): MetricsBackend {
  function pick(fromMs: number, stepMs: number): { tier: number; res: number } {
    const age = now() - fromMs;
    const all = [{ tier: -1, res: history.intervalMs, keep: history.rawMs }, ...history.tiers.map((t, i) => ({ tier: i, res: t.stepMs, keep: t.keepMs }))];
    let covering = all.filter((c) => c.keep >= age);
    if (covering.length === 0) covering = [all.at(-1)!];
    const fits = covering.filter((c) => c.res <= stepMs);
    return fits.at(-1) ?? covering[0]!;
  }

  function select(scope: Scope, metric: string, match: Record<string, string> | undefined): { s: SeriesState; hostname: string }[] {
    const out: { s: SeriesState; hostname: string }[] = [];
    for (const m of scope.machines)
      for (const s of history.machineSeries(m.id)?.values() ?? []) if (s.name === metric && labelsMatch(s.labels, match)) out.push({ s, hostname: m.hostname });
    return out;
  }

  return {
    source: 'canopy',
    async query(p, scope, fromMs, toMs) {
      const match = matchOf(p.match);
      let stepMs = (p.step ?? autoStep(fromMs, toMs, history.intervalMs / 1000)) * 1000;
      const src = pick(fromMs, stepMs);
      stepMs = Math.max(stepMs, src.res);
      const chosen = select(scope, p.metric, match);
      const points = await history.read(chosen.map((c) => c.s), src.tier, fromMs, toMs);
      const groups = new Map<string, { labels: Record<string, string>; series: ReturnType<typeof bucketise>[] }>();
      for (const { s, hostname } of chosen) {
        const key = p.by === undefined ? '' : p.by === 'machine' ? hostname : (s.labels[p.by] ?? '');
        let g = groups.get(key);
        if (!g) {
          if (groups.size >= MAX_SERIES) continue;
          groups.set(key, (g = { labels: p.by === undefined ? {} : p.by === 'machine' ? { hostname } : { [p.by]: key }, series: [] }));
        }
        g.series.push(bucketise(points.get(s) ?? [], stepMs, fromMs - src.res, toMs));
      }
      const series = [...groups.values()].map((g) => ({ labels: g.labels, points: combine(g.series, p.agg) })).filter((s) => s.points.length > 0);
      series.sort((a, b) => JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)));
      return { source: 'canopy', metric: p.metric, agg: p.agg, from: fromMs, to: toMs, step: stepMs / 1000, machines: scope.machines.length, series };
    },
    async top(p, scope) {
      const match = matchOf(p.match);
      const t = now();
      const best = new Map<number, { hostname: string; value: number }>();
      for (const m of scope.machines)
        for (const s of history.machineSeries(m.id)?.values() ?? []) {
          if (s.name !== p.metric || !labelsMatch(s.labels, match)) continue;
          const pts = history.recent(s, t - p.window * 1000, t);
          if (pts.length === 0) continue;
          const v = pts.reduce((x, q) => x + q[1], 0) / pts.length;
          const cur = best.get(m.id);
          if (!cur || (p.order === 'desc' ? v > cur.value : v < cur.value)) best.set(m.id, { hostname: m.hostname, value: v });
        }
      const items = [...best].map(([machineId, b]) => ({ machineId, hostname: b.hostname, value: b.value }));
      items.sort((a, b) => (p.order === 'desc' ? b.value - a.value : a.value - b.value) || (a.hostname < b.hostname ? -1 : 1));
      return { source: 'canopy', metric: p.metric, items: items.slice(0, p.n) };
    },
  };
}
