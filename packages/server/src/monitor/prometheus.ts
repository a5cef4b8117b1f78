/**
 * Prometheus mode (CANOPY_PROMETHEUS_URL): dashboards read from a Prometheus that scrapes the
 * agents through Canopy's HTTP service discovery. A subtree is the regular expression over the
 * `canopy_paths` label the discovery puts on every target (`,corp.ops.web,corp.db,`), so a query
 * names the node, never a list of 1,000 hosts. Derived series use the PromQL in core/monitor.
 */
import { CanopyError, DERIVED, isCounter, type MonitorQueryParams } from '@canopy/core';
import { matchOf, type MetricsBackend, type Scope } from './query.ts';

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

function aggregate(p: MonitorQueryParams, expr: string): string {
  const by = p.by === undefined ? '' : p.by === 'machine' ? ' by (instance)' : ` by (${p.by})`;
  return p.agg === 'p95' ? `quantile${by}(0.95, ${expr})` : `${p.agg}${by}(${expr})`;
}

/** Dashboards over Prometheus's HTTP API. */
export function prometheusBackend(baseUrl: string, fetchImpl: typeof fetch = fetch): MetricsBackend {
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
      const expr = aggregate(p, instanceExpr(p.metric, scopeMatchers(scope, p.machine, matchOf(p.match))));
      const data = await api('query_range', { query: expr, start: String(fromMs / 1000), end: String(toMs / 1000), step: String(step) });
      const series = data.result.map((r) => {
        const labels: Record<string, string> = {};
        if (p.by === 'machine') labels['hostname'] = r.metric['instance'] ?? '';
        else if (p.by !== undefined) labels[p.by] = r.metric[p.by] ?? '';
        return { labels, points: (r.values ?? []).map(([t, v]) => [t * 1000, num(v)] as [number, number]).filter((x) => Number.isFinite(x[1])) };
      });
      return { source: 'prometheus', metric: p.metric, agg: p.agg, from: fromMs, to: toMs, step, machines: scope.machines.length, series };
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
