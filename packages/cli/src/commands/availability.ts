/**
 * `canopy availability`: per-service availability from the nginx access logs (rate, p50/p99, SLO
 * and error budget, burn-rate alerts), backends and their ejections, and the per-service settings.
 */
import type { Command } from 'commander';
import { NodePath } from '@canopy/core';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { fields, table, UsageError } from '../output.ts';

interface WindowOptions extends JsonOption {
  window: string;
}

const WINDOW_RE = /^[1-9][0-9]{0,6}[smhd]$/;

function path(p: string): string {
  if (!NodePath.safeParse(p).success) throw new UsageError(`'${p}' is not a node path (dot-separated DNS labels, e.g. corp.shop.web)`);
  return p;
}

function windowOf(w: string): string {
  if (!WINDOW_RE.test(w)) throw new UsageError(`--window '${w}' must be a duration such as 30s, 5m, 1h or 28d`);
  return w;
}

const pct = (v: number | null | undefined, digits = 3) => (v === null || v === undefined ? '-' : `${(v * 100).toFixed(digits)}%`);
const ms = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${v.toFixed(1)}ms`);
const rate = (v: number) => `${v.toFixed(2)}/s`;

interface Figures { total: number; failed: number; availability: number | null; rate: number; p50Ms: number | null; p99Ms: number | null }
interface Backend extends Figures { backend: string; hostname: string | null; ejected: boolean; ejectedUntil: string | null; ejections: number; spared: string | null }
interface Alert { name: string; severity: string; firing: boolean; longBurn: number; shortBurn: number }
interface ServiceView extends Figures {
  path: string;
  slo: { target: number; windowDays: number; availability: number | null; budgetLeft: number | null; alerts: Alert[] };
  backends: Backend[];
  routes: (Figures & { domain: string; location: string })[];
}

/** One service, for people. */
export function serviceText(v: ServiceView): string {
  const firing = v.slo.alerts.filter((a) => a.firing).map((a) => `${a.name} (${a.severity})`);
  return [
    fields([
      ['service', v.path],
      ['availability', pct(v.availability)],
      ['requests', `${v.total} (${v.failed} failed), ${rate(v.rate)}`],
      ['latency', `p50 ${ms(v.p50Ms)}  p99 ${ms(v.p99Ms)}`],
      ['slo', `${pct(v.slo.target)} over ${v.slo.windowDays}d: ${pct(v.slo.availability)}, budget left ${pct(v.slo.budgetLeft, 1)}`],
      ['burn alerts', firing.length ? firing.join(', ') : 'none firing'],
    ]),
    '\n',
    table(
      ['backend', 'host', 'availability', 'attempts', 'failed', 'rate', 'p50', 'p99', 'state'],
      v.backends.map((b) => [b.backend, b.hostname, pct(b.availability), b.total, b.failed, rate(b.rate), ms(b.p50Ms), ms(b.p99Ms), b.ejected ? `EJECTED until ${b.ejectedUntil}` : b.spared ? `spared: ${b.spared}` : 'in service']),
      '(no backends)\n',
    ),
    '\n',
    table(['domain', 'location', 'availability', 'requests', 'p99'], v.routes.map((r) => [r.domain, r.location, pct(r.availability), r.total, ms(r.p99Ms)]), '(no routes counted)\n'),
  ].join('');
}

/** Adds `canopy availability`. */
export function registerAvailability(program: Command, ctx: CliContext): void {
  const av = program.command('availability').description('availability of services from their nginx access logs; backends ejected automatically');
  withJson(av.command('ls').description('services under a node: availability, rate, latency, ejected backends'))
    .option('--under <path>', 'services in this subtree (superusers may omit it)')
    .option('--window <duration>', 'the window ending now', '5m')
    .action(async (opts: WindowOptions & { under?: string }) => {
      const q = new URLSearchParams({ window: windowOf(opts.window), ...(opts.under ? { under: path(opts.under) } : {}) });
      const r = await ctx.client().request<{ items: (Figures & { path: string; sloTarget: number; ejected: number })[] }>('GET', `/monitor/availability?${q}`);
      ctx.print(opts.json, r.items, () =>
        table(['service', 'availability', 'slo', 'requests', 'rate', 'p50', 'p99', 'ejected'], r.items.map((i) => [i.path, pct(i.availability), pct(i.sloTarget), i.total, rate(i.rate), ms(i.p50Ms), ms(i.p99Ms), i.ejected]), '(no services with traffic)\n'),
      );
    });
  withJson(av.command('show').argument('<path>', 'the service node').description('one service: SLO, error budget, burn-rate alerts, backends, routes'))
    .option('--window <duration>', 'the window ending now', '5m')
    .action(async (p: string, opts: WindowOptions) => {
      const v = await ctx.client().request<ServiceView>('GET', `/monitor/availability/services/${path(p)}?window=${windowOf(opts.window)}`);
      ctx.print(opts.json, v, () => serviceText(v));
    });
  withJson(av.command('ejections').argument('<path>', 'the service node').description('ejections of the service’s backends, newest first'))
    .action(async (p: string, opts: JsonOption) => {
      const r = await ctx.client().request<{ items: { hostname: string | null; backend: string; reason: string; detail: string; ejectedAt: string; untilAt: string; returnedAt: string | null }[] }>('GET', `/monitor/availability/services/${path(p)}/ejections`);
      ctx.print(opts.json, r.items, () =>
        table(['ejected', 'host', 'backend', 'reason', 'until', 'returned', 'detail'], r.items.map((e) => [e.ejectedAt, e.hostname, e.backend, e.reason, e.untilAt, e.returnedAt ?? 'still ejected', e.detail]), '(no ejections)\n'),
      );
    });
  withJson(av.command('set').argument('<path>', 'the service node').description('set the SLO, what counts as failure and automatic ejection (unnamed settings: their defaults)'))
    .option('--slo <ratio>', 'SLO target, e.g. 0.999')
    .option('--slo-days <n>', 'SLO window in days (default 28)')
    .option('--fail <statuses>', 'comma-separated codes or classes counted as failures (default 5xx)')
    .option('--no-eject', 'do not eject backends automatically')
    .option('--consecutive-5xx <n>', 'consecutive 5xx that eject a backend (default 5; 0: off)')
    .option('--base-ejection <seconds>', 'first ejection time; later ones multiply it (default 30)')
    .option('--max-ejection-percent <n>', 'most of the backends ejected at once (default 10; at least one)')
    .action(async (p: string, opts: JsonOption & { slo?: string; sloDays?: string; fail?: string; eject: boolean; consecutive5xx?: string; baseEjection?: string; maxEjectionPercent?: string }) => {
      const num = (v: string | undefined, flag: string) => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isFinite(n)) throw new UsageError(`--${flag} '${v}' must be a number`);
        return n;
      };
      const drop = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
      const body = drop({
        slo: opts.slo === undefined && opts.sloDays === undefined ? undefined : drop({ target: num(opts.slo, 'slo') ?? 0.999, windowDays: num(opts.sloDays, 'slo-days') }),
        failStatuses: opts.fail?.split(',').map((s) => s.trim()),
        ejection: drop({ enabled: opts.eject, consecutive5xx: num(opts.consecutive5xx, 'consecutive-5xx'), baseEjectionSeconds: num(opts.baseEjection, 'base-ejection'), maxEjectionPercent: num(opts.maxEjectionPercent, 'max-ejection-percent') }),
      });
      const r = await ctx.client().request<{ settings: unknown }>('PUT', `/monitor/availability/services/${path(p)}/settings`, body);
      ctx.print(opts.json, r, () => `${JSON.stringify(r.settings, null, 2)}\n`);
    });
}
