/**
 * What the Discovery tab shows, in one place: the shapes it reads (types only, from @canopy/core, so
 * zod stays out of the bundle), the tag colours and the choices its forms offer.
 */
import type { z } from 'zod';
import type { AliasView, Answer, GraphView, HealthState, InstanceStatus, InstanceView, LbAlgorithm, ServiceInput, ServiceView, WatchEvent } from '@canopy/core';

export type { AliasView, Answer, GraphView, HealthState, InstanceStatus, InstanceView, LbAlgorithm, ServiceView, WatchEvent };
/** What `PUT /services/{path}` takes, before the server fills its defaults. */
export type ServiceDraft = z.input<typeof ServiceInput>;

/** Colours a reader maps without a legend: green serves, gold is shaky, red is out. */
export const HEALTH_COLOR: Record<HealthState, string> = { passing: 'green', warning: 'gold', critical: 'red' };
export const STATUS_COLOR: Record<InstanceStatus, string> = { up: 'green', draining: 'orange', down: 'default' };

/** The balancing algorithms the server knows (mirrors LB_ALGORITHMS in core), with a hint each. */
export const ALGORITHMS: readonly { value: LbAlgorithm; label: string; hint: string }[] = [
  { value: 'wrr', label: 'Weighted round robin', hint: "nginx's smooth WRR: the same sequence nginx produces for the same weights" },
  { value: 'consistent_hash', label: 'Consistent hash', hint: "the backend nginx's `hash $key consistent` picks for the same key" },
  { value: 'maglev', label: 'Maglev', hint: "Google's Maglev table: even spread, minimal disruption" },
  { value: 'random', label: 'Weighted random', hint: 'random, in proportion to weight' },
  { value: 'least_request', label: 'Least request', hint: 'power of two choices on in-flight requests' },
];
const HASHING = new Set<LbAlgorithm>(['consistent_hash', 'maglev']);

/** Whether an algorithm hashes a key (and so takes a hash key). */
export function isHashing(algorithm: LbAlgorithm | undefined): boolean {
  return algorithm !== undefined && HASHING.has(algorithm);
}

/** The label of an algorithm value. */
export function algorithmLabel(algorithm: LbAlgorithm): string {
  return ALGORITHMS.find((a) => a.value === algorithm)?.label ?? algorithm;
}

/** The editable part of a service view, as the settings form holds it. */
export function draftOf(s: ServiceView): ServiceDraft {
  return {
    ports: s.ports,
    lb: s.lb,
    protectThreshold: s.protectThreshold,
    zoneAware: s.zoneAware,
    zoneMinHealthy: s.zoneMinHealthy,
    passesBeforePassing: s.passesBeforePassing,
    failuresBeforeCritical: s.failuresBeforeCritical,
  };
}

/** A new service's starting point: one HTTP port, nginx's default algorithm, no protection. */
export const NEW_SERVICE: ServiceDraft = {
  ports: [{ name: 'http', port: 8080 }],
  lb: { algorithm: 'wrr' },
  protectThreshold: 0,
  zoneAware: false,
  zoneMinHealthy: 1,
  passesBeforePassing: 1,
  failuresBeforeCritical: 1,
};

/** `host:port`, the way an operator names an instance. */
export const instanceKey = (i: Pick<InstanceView, 'hostname' | 'port'>): string => `${i.hostname}:${i.port}`;
