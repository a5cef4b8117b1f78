/** What the API answers about a service's availability, computed from the read model. */
import { availabilityOf, quantileMs, sloStatus, type AvailabilitySettings, type SloStatus } from '@canopy/core';
import type { AvailabilityModel, Totals } from './model.ts';

/** One row of numbers: a service, a backend or a route over a window. */
export interface Figures {
  total: number;
  failed: number;
  availability: number | null;
  /** Requests (attempts, for a backend) per second over the window. */
  rate: number;
  p50Ms: number | null;
  p99Ms: number | null;
  statuses: Record<string, number>;
}

export interface BackendView extends Figures {
  backend: string;
  hostname: string | null;
  port: number | null;
  ejected: boolean;
  ejectedUntil: string | null;
  /** Envoy's ejection multiplier: the next ejection lasts base × (this + 1). */
  ejections: number;
  /** Why detection last left it in although it failed (max share, protect threshold). */
  spared: string | null;
}

export interface ServiceAvailability extends Figures {
  path: string;
  windowMs: number;
  settings: AvailabilitySettings;
  slo: SloStatus;
  backends: BackendView[];
  routes: (Figures & { domain: string; location: string })[];
}

/** Figures from totals over `windowMs`. */
export function figures(t: Totals, windowMs: number): Figures {
  return {
    total: t.total,
    failed: t.failed,
    availability: availabilityOf(t),
    rate: t.total / (windowMs / 1000),
    p50Ms: quantileMs(t.latency, 0.5),
    p99Ms: quantileMs(t.latency, 0.99),
    statuses: t.statuses,
  };
}

/** A service's SLO status at `now`: availability and budget over its window, the burn-rate alerts. */
export function serviceSlo(model: AvailabilityModel, nodeId: number, settings: AvailabilitySettings, now: number): SloStatus {
  return sloStatus(settings.slo.target, settings.slo.windowDays, (ms) => model.totals(nodeId, { backend: '', windowMs: ms, now, fail: settings.failStatuses }));
}

/** The whole view of one service. */
export function serviceAvailability(
  model: AvailabilityModel,
  nodeId: number,
  path: string,
  settings: AvailabilitySettings,
  windowMs: number,
  now: number,
  instances: { hostname: string; ip: string; port: number }[],
): ServiceAvailability {
  const fail = settings.failStatuses;
  const series = model.seriesOf(nodeId);
  const backends = new Set<string>();
  const routes = new Map<string, { domain: string; location: string }>();
  for (const s of series) {
    if (s.backend !== '') backends.add(s.backend);
    else routes.set(`${s.domain}\u0000${s.location}`, { domain: s.domain, location: s.location });
  }
  for (const i of instances) backends.add(`${i.ip}:${i.port}`);
  const byAddr = new Map(instances.map((i) => [`${i.ip}:${i.port}`, i]));
  const backendViews: BackendView[] = [...backends].sort().map((b) => {
    const o = model.outliers.get(`${nodeId} ${b}`);
    const i = byAddr.get(b);
    return {
      backend: b,
      hostname: i?.hostname ?? o?.hostname ?? null,
      port: i?.port ?? o?.port ?? null,
      ...figures(model.totals(nodeId, { backend: b, windowMs, now, fail }), windowMs),
      ejected: o?.ejected ?? false,
      ejectedUntil: o?.ejected ? new Date(o.until).toISOString() : null,
      ejections: o?.count ?? 0,
      spared: model.spared.get(`${nodeId} ${b}`)?.reason ?? null,
    };
  });
  const routeViews = [...routes.values()].sort((a, b) => (a.domain + a.location < b.domain + b.location ? -1 : 1)).map((r) => ({
    ...r,
    ...figures(model.totals(nodeId, { backend: '', windowMs, now, fail, filter: (s) => s.domain === r.domain && s.location === r.location }), windowMs),
  }));
  const total = model.totals(nodeId, { backend: '', windowMs, now, fail });
  const slo = serviceSlo(model, nodeId, settings, now);
  return { path, windowMs, settings, ...figures(total, windowMs), slo, backends: backendViews, routes: routeViews };
}
