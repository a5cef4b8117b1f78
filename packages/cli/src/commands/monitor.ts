/**
 * `canopy monitor query|top|overview|rules|set-rules|recording-rules`: metrics of a subtree for
 * scripts (`--json`) and people (a table), the top machines by a metric, machine counts by status,
 * the node's collect rules with where each comes from, and Prometheus recording rules for its panels.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CollectRulesView, MonitorOverview, MonitorQueryResult, MonitorTopResult } from '@canopy/core';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { table, UsageError } from '../output.ts';

interface QueryOptions extends JsonOption {
  under?: string;
  metric?: string;
  match?: string;
  agg?: string;
  from?: string;
  to?: string;
  step?: string;
  by?: string;
  machine?: string;
}

function need(o: Record<string, unknown>, key: string, flag: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') throw new UsageError(`${flag} is required`);
  return v;
}

function qs(params: Record<string, string | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.set(k, v);
  return u.toString();
}

/** A value for people: 4 significant digits, no exponent below 1e15. */
function fmt(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e15 || Math.abs(v) < 1e-4 ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}

const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

function renderQuery(r: MonitorQueryResult): string {
  if (r.series.length === 0) return `(no data for ${r.metric} over ${r.machines} machine(s))\n`;
  const names = r.series.map((s) => Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(',') || `${r.agg}(${r.metric})`);
  const times = [...new Set(r.series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const byTime = r.series.map((s) => new Map(s.points));
  return table(['time', ...names], times.map((t) => [when(t), ...byTime.map((m) => (m.has(t) ? fmt(m.get(t)!) : ''))]));
}

/** Adds `canopy monitor`. */
export function registerMonitor(program: Command, ctx: CliContext): void {
  const monitor = program.command('monitor').description('metrics of a subtree: query, top, overview; collect rules');

  withJson(monitor.command('query').description('a metric over the machines of a subtree, aggregated per step (or --by machine / a label)'))
    .option('--under <path>', 'the node')
    .option('--metric <name>', 'e.g. instance:node_cpu_utilisation:rate1m, node_load1, node_filesystem_avail_bytes')
    .option('--match <labels>', 'label filter, e.g. mountpoint=/,fstype=ext4')
    .option('--agg <fn>', 'avg, max, min, sum or p95 across machines', 'avg')
    .option('--from <time>', 'start: -1h, now-7d, an ISO time or ms since the epoch', '-1h')
    .option('--to <time>', 'end', 'now')
    .option('--step <seconds>', 'seconds per point (default: about 240 points)')
    .option('--by <what>', 'one series per "machine" or per value of a label')
    .option('--machine <hostname>', 'only this machine')
    .action(async (o: QueryOptions) => {
      const q = qs({ under: need(o as never, 'under', '--under'), metric: need(o as never, 'metric', '--metric'), match: o.match, agg: o.agg, from: o.from, to: o.to, step: o.step, by: o.by, machine: o.machine });
      const r = await ctx.client().request<MonitorQueryResult>('GET', `/monitor/query?${q}`);
      ctx.print(o.json, r, () => renderQuery(r));
    });

  withJson(monitor.command('top').description('the machines of a subtree with the highest (or --asc lowest) recent value'))
    .option('--under <path>', 'the node')
    .option('--metric <name>', 'the metric')
    .option('--match <labels>', 'label filter')
    .option('-n, --count <n>', 'how many', '10')
    .option('--window <seconds>', 'seconds averaged per machine', '300')
    .option('--asc', 'lowest first')
    .action(async (o: JsonOption & { under?: string; metric?: string; match?: string; count: string; window: string; asc?: boolean }) => {
      const q = qs({ under: need(o as never, 'under', '--under'), metric: need(o as never, 'metric', '--metric'), match: o.match, n: o.count, window: o.window, order: o.asc ? 'asc' : 'desc' });
      const r = await ctx.client().request<MonitorTopResult>('GET', `/monitor/top?${q}`);
      ctx.print(o.json, r, () => table(['machine', r.metric], r.items.map((i) => [i.hostname, fmt(i.value)]), `(no machine under it reports ${r.metric})\n`));
    });

  withJson(monitor.command('overview').description('machines of a subtree by status, by agent state, and how many report metrics'))
    .option('--under <path>', 'the node')
    .action(async (o: JsonOption & { under?: string }) => {
      const r = await ctx.client().request<MonitorOverview>('GET', `/monitor/overview?${qs({ under: need(o as never, 'under', '--under') })}`);
      const line = (rec: Record<string, number>) => Object.entries(rec).map(([k, v]) => `${k} ${v}`).join(', ');
      ctx.print(o.json, r, () => `${r.node}: ${r.machines} machine(s); status: ${line(r.byStatus) || '-'}; agents: ${line(r.byAgent)}; reporting metrics: ${r.reporting}\n`);
    });

  withJson(monitor.command('rules').description("a node's collect rules in effect, and where each comes from"))
    .option('--under <path>', 'the node')
    .action(async (o: JsonOption & { under?: string }) => {
      const path = need(o as never, 'under', '--under');
      const r = await ctx.client().request<CollectRulesView>('GET', `/nodes/${encodeURIComponent(path)}/collect-rules`);
      ctx.print(o.json, r, () =>
        table(['name', 'kind', 'what', 'from'], r.effective.map((e) => {
          const x = e.rule;
          const what = x.kind === 'port' ? String(x.port) : x.kind === 'process' ? x.pattern : x.kind === 'http' ? x.url : x.kind === 'script' ? x.argv.join(' ') : `${x.path} ~ ${x.pattern}`;
          return [x.name, x.kind, what, e.from === r.node ? 'here' : e.from];
        }), '(no collect rules)\n'));
    });

  monitor.command('recording-rules').description("Prometheus recording rules for the panels of the subtree's big nodes (a rule file for rule_files)")
    .option('--under <path>', 'the node')
    .action(async (o: { under?: string }) => {
      const path = need(o as never, 'under', '--under');
      process.stdout.write(await ctx.client().request<string>('GET', `/monitor/prometheus/recording-rules?${qs({ under: path })}`, undefined, { accept: 'application/yaml' }));
    });

  withJson(monitor.command('set-rules').description("replace a node's own collect rules with those in a JSON file ({\"rules\": [...]}, or - for stdin)"))
    .option('--under <path>', 'the node')
    .argument('<file>', 'the JSON file')
    .action(async (file: string, o: JsonOption & { under?: string }) => {
      const path = need(o as never, 'under', '--under');
      let body: unknown;
      try {
        body = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8'));
      } catch (err) {
        throw new UsageError(`${file}: ${(err as Error).message}`);
      }
      const r = await ctx.client().request<CollectRulesView>('PUT', `/nodes/${encodeURIComponent(path)}/collect-rules`, body);
      ctx.print(o.json, r, () => `${r.node}: ${r.own.length} own rule(s), ${r.effective.length} in effect\n`);
    });
}
