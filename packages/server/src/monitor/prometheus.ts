/**
 * Prometheus mode (CANOPY_PROMETHEUS_URL): dashboards read from a Prometheus that scrapes the
 * agents through Canopy's HTTP service discovery. A subtree is the regular expression over the
 * `canopy_paths` label the discovery puts on every target (`,corp.ops.web,corp.db,`), so a query
 * names the node, never a list of 1,000 hosts. Derived series use the PromQL in core/monitor.
 *
 * A big node's panel over days is Prometheus reading every machine's series for every step (1 to
 * 3 s for 1,000 machines over 7 days, BENCHMARKS.md). Canopy exports recording rules for the panels of every node with
 * at least `minMachines` machines (`GET /monitor/prometheus/recording-rules`): each keeps the
 * node's aggregate as one series, `canopy_node:<panel>:<agg>{canopy_node="<path>"}`, evaluated
 * every `intervalSeconds`. A chart whose step is at least that interval reads the recorded series,
 * and computes from the machines' series only the part before the rule began (or after it stopped).
 */
import { CanopyError, DASHBOARD_AGGREGATIONS, DERIVED, isCounter, type Aggregation, type MonitorQueryParams, type MonitorQueryResult } from '@canopy/core';
import { matchOf, type MetricsBackend, type Scope } from './query.ts';

/** How the panels of big nodes are recorded (Prometheus mode). */
export interface RecordingOptions {
  /** Nodes with at least this many machines beneath get recording rules (smaller ones are quick to compute). */
  minMachines: number;
  /** Evaluation interval of those rules; charts with a shorter step compute from the machines' series. */
  intervalSeconds: number;
}

export const DEFAULT_RECORDING: RecordingOptions = { minMachines: 100, intervalSeconds: 60 };
/** The label naming the node on a recorded series. */
export const RECORDED_NODE_LABEL = 'canopy_node';

/** The series recording `agg` of panel `metric` over a node. */
export function recordedName(metric: string, agg: Aggregation): string {
  return `${RECORDED_NODE_LABEL}:${metric}:${agg}`;
}

/** A PromQL string literal. */
export function promString(s: string): string {
  return JSON.stringify(s);
}

function reEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Label matchers selecting the machines of a scope (one machine when `machine` is set). */
export function scopeMatchers(scope: Scope, machine: string | undefined, match: Record<string, string> | undefined): string {
  const out = [machine ? `instance=${promString(machine)}` : `canopy_paths=~${promString(`.*,${reEscape(scope.path)}(\\.[^,]*)?,.*`)}`];
  for (const [k, v] of Object.entries(match ?? {})) out.push(`${k}=${promString(v)}`);
  return out.join(',');
}

/** The per-instance expression of `metric`: a derived series' PromQL, a counter's rate, or the gauge itself. */
export function instanceExpr(metric: string, matchers: string, rateWindow = '1m'): string {
  const d = DERIVED.find((x) => x.name === metric);
  if (d) return d.promql(matchers);
  return isCounter(metric) ? `rate(${metric}{${matchers}}[${rateWindow}])` : `${metric}{${matchers}}`;
}

function aggregate(agg: Aggregation, groupBy: MonitorQueryParams['by'], expr: string): string {
  const by = groupBy === undefined ? '' : groupBy === 'machine' ? ' by (instance)' : ` by (${groupBy})`;
  return agg === 'p95' ? `quantile${by}(0.95, ${expr})` : `${agg}${by}(${expr})`;
}

/** The aggregate of a panel over a node, as a chart computes it and as its recording rule keeps it. */
function nodeAggregate(metric: string, agg: Aggregation, path: string): string {
  return aggregate(agg, undefined, instanceExpr(metric, scopeMatchers({ path, machines: [] }, undefined, undefined)));
}

/** Recording rules for the panels of these nodes: a group per node, each aggregation of each panel. */
export function recordingRuleFile(paths: readonly string[], intervalSeconds: number): string {
  if (paths.length === 0) return 'groups: []\n';
  const out = ['groups:'];
  for (const path of paths) {
    out.push(`  - name: ${promString(`canopy:dashboards:${path}`)}`, `    interval: ${intervalSeconds}s`, '    rules:');
    for (const d of DERIVED)
      for (const agg of DASHBOARD_AGGREGATIONS)
        out.push(`      - record: ${promString(recordedName(d.name, agg))}`, `        expr: ${promString(nodeAggregate(d.name, agg, path))}`, `        labels: { ${RECORDED_NODE_LABEL}: ${promString(path)} }`);
  }
  return `${out.join('\n')}\n`;
}

/** Dashboards over Prometheus's HTTP API. */
export function prometheusBackend(baseUrl: string, recording: RecordingOptions = DEFAULT_RECORDING, fetchImpl: typeof fetch = fetch): MetricsBackend {
  const base = baseUrl.replace(/\/+$/, '');
  async function api(path: string, params: Record<string, string>): Promise<{ resultType: string; result: { metric: Record<string, string>; values?: [number, string][]; value?: [number, string] }[] }> {
    let res: Response;
    try {
      res = await fetchImpl(`${base}/api/v1/${path}`, { method: 'POST', body: new URLSearchParams(params), signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      throw new CanopyError('unavailable', `Prometheus at ${base} did not answer: ${(err as Error).message}`);
    }
    const body = (await res.json().catch(() => ({}))) as { status?: string; data?: never; error?: string };
    if (!res.ok || body.status !== 'success') throw new CanopyError('unavailable', `Prometheus refused the query: ${body.error ?? res.status}`);
    return body.data as never;
  }
  const num = (v: string) => (v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v));
  return {
    source: 'prometheus',
    async query(p, scope, fromMs, toMs) {
      const step = p.step ?? Math.max(15, Math.ceil((toMs - fromMs) / 1000 / 240));
      const expr = aggregate(p.agg, p.by, instanceExpr(p.metric, scopeMatchers(scope, p.machine, matchOf(p.match))));
      const range = async (query: string, from: number, to: number) => {
        const data = await api('query_range', { query, start: String(from / 1000), end: String(to / 1000), step: String(step) });
        return data.result.map((r) => ({ metric: r.metric, points: (r.values ?? []).map(([t, v]) => [t * 1000, num(v)] as [number, number]).filter((x) => Number.isFinite(x[1])) }));
      };
      const result = { source: 'prometheus', metric: p.metric, agg: p.agg, from: fromMs, to: toMs, step, machines: scope.machines.length } as const;
      const recordable = p.by === undefined && p.machine === undefined && p.match === undefined && DASHBOARD_AGGREGATIONS.includes(p.agg) && DERIVED.some((d) => d.name === p.metric);
      if (recordable && scope.machines.length >= recording.minMachines && step >= recording.intervalSeconds) {
        const name = recordedName(p.metric, p.agg);
        const points = (await range(`${name}{${RECORDED_NODE_LABEL}=${promString(scope.path)}}`, fromMs, toMs))[0]?.points ?? [];
        const [first, last] = [points[0]?.[0], points.at(-1)?.[0]];
        if (first !== undefined && last !== undefined) {
          // The grid is fromMs + k·step: the head and tail computed from the machines' series stay on it.
          const ms = step * 1000;
          const [head, tail] = await Promise.all([
            first - ms >= fromMs ? range(expr, fromMs, first - ms) : [],
            last + ms <= toMs ? range(expr, last + ms, toMs) : [],
          ]);
          const all = [...(head[0]?.points ?? []), ...points, ...(tail[0]?.points ?? [])];
          return { ...result, series: [{ labels: {}, points: all }], recorded: { series: name, since: first } } satisfies MonitorQueryResult;
        }
      }
      const series = (await range(expr, fromMs, toMs)).map((r) => {
        const labels: Record<string, string> = {};
        if (p.by === 'machine') labels['hostname'] = r.metric['instance'] ?? '';
        else if (p.by !== undefined) labels[p.by] = r.metric[p.by] ?? '';
        return { labels, points: r.points };
      });
      return { ...result, series };
    },
    async top(p, scope) {
      const inner = instanceExpr(p.metric, scopeMatchers(scope, undefined, matchOf(p.match)));
      const over = DERIVED.some((d) => d.name === p.metric) || isCounter(p.metric) ? `avg_over_time((${inner})[${p.window}s:])` : `avg_over_time(${inner}[${p.window}s])`;
      const expr = `${p.order === 'desc' ? 'topk' : 'bottomk'}(${p.n}, ${p.order === 'desc' ? 'max' : 'min'} by (instance) (${over}))`;
      const data = await api('query', { query: expr });
      const ids = new Map(scope.machines.map((m) => [m.hostname, m.id]));
      const items = data.result
        .map((r) => ({ hostname: r.metric['instance'] ?? '', machineId: ids.get(r.metric['instance'] ?? '') ?? 0, value: num(r.value?.[1] ?? 'NaN') }))
        .filter((i) => i.machineId !== 0 && Number.isFinite(i.value));
      items.sort((a, b) => (p.order === 'desc' ? b.value - a.value : a.value - b.value));
      return { source: 'prometheus', metric: p.metric, items };
    },
  };
}
