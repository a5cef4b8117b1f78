/**
 * Which instances a client should use: the one rule shared by the server's answers, the DNS server
 * and the SDK, so every path to a service sees the same set.
 */
import type { HealthState, InstanceStatus } from './schema.ts';

/** The fields selection looks at. */
export interface Selectable {
  status: InstanceStatus;
  health: HealthState;
  zone: string;
  bound: boolean;
}

/** A service's selection settings. */
export interface SelectionPolicy {
  protectThreshold: number;
  zoneAware: boolean;
  zoneMinHealthy: number;
}

export interface SelectOptions {
  /** Only what should take traffic; false returns every instance, for display. */
  healthyOnly: boolean;
  /** The caller's zone; matters to zone-aware services only. */
  zone?: string | undefined;
}

export interface Selection<T> {
  instances: T[];
  protected: boolean;
  zoneFallback: boolean;
  /** Bound instances with status `up`. */
  total: number;
  /** Of those, the ones not critical. */
  healthy: number;
}

/** Serving means up and not critical; warning still serves, as Consul's DNS answers it. */
export function isServing(i: Selectable): boolean {
  return i.bound && i.status === 'up' && i.health !== 'critical';
}

/**
 * Apply maintenance, health, the protect threshold and zone preference, in that order. Maintenance
 * (draining/down) always removes an instance; the threshold (as Nacos) then answers with the
 * unhealthy ones too when too few are healthy, so the survivors are not flattened; zones last, with
 * same-zone instances first when the caller's zone cannot carry the load alone.
 */
export function selectInstances<T extends Selectable>(all: readonly T[], policy: SelectionPolicy, opts: SelectOptions): Selection<T> {
  const up = all.filter((i) => i.bound && i.status === 'up');
  const serving = up.filter((i) => i.health !== 'critical');
  const base = { total: up.length, healthy: serving.length };
  if (!opts.healthyOnly) return { instances: [...all], protected: false, zoneFallback: false, ...base };
  const isProtected = up.length > 0 && serving.length / up.length < policy.protectThreshold;
  const pool = isProtected ? up : serving;
  if (!policy.zoneAware || !opts.zone) return { instances: pool, protected: isProtected, zoneFallback: false, ...base };
  const local = pool.filter((i) => i.zone === opts.zone);
  const localServing = local.filter((i) => i.health !== 'critical').length;
  if (localServing >= policy.zoneMinHealthy) return { instances: local, protected: isProtected, zoneFallback: false, ...base };
  const away = pool.filter((i) => i.zone !== opts.zone);
  return { instances: [...local, ...away], protected: isProtected, zoneFallback: true, ...base };
}

/**
 * Each instance marked with whether it takes traffic, zones aside: a member of the set
 * `selectInstances` answers a caller without a zone. Nginx upstreams and LVS real servers route to
 * exactly these, so the protect threshold holds for proxies as it does for DNS and the SDK.
 */
export function markServing<T extends Selectable>(all: readonly T[], policy: SelectionPolicy): (T & { serving: boolean })[] {
  const chosen = new Set<T>(selectInstances(all, policy, { healthyOnly: true }).instances);
  return all.map((i) => ({ ...i, serving: chosen.has(i) }));
}
