/**
 * The LVS tab's data: the API's views (types only from @canopy/core), the choices its forms
 * offer with a hint each, and a virtual service's form draft turned back into the request body —
 * blank fields dropped and health-check fields kept only for the checker that uses them.
 */
import type { LvsServiceSettings, LvsVirtualServiceInput, LvsVirtualServiceSettings } from '@canopy/core';
import type { PublishStatus } from '../proxy-shared/model.ts';

export type VirtualService = LvsVirtualServiceSettings;

/** `GET /nodes/{path}/lvs`: the virtual services and the clusters balancing them. */
export type LvsServiceView = LvsServiceSettings & { path: string; clusters: string[]; version: number; updatedAt: string };

export type Flavor = 'stock' | 'fullnat';

/** `GET /lvs/clusters/{path}`. */
export interface LvsClusterView extends PublishStatus {
  path: string;
  services: string[];
  flavor: Flavor;
  localAddressGroups: { name: string; addresses: string[] }[];
  version: number;
  updatedAt: string;
}

/** IPVS schedulers (LVS_SCHEDULERS in core). */
export const SCHEDULERS = [
  { value: 'wrr', hint: 'weighted round robin' },
  { value: 'rr', hint: 'round robin' },
  { value: 'wlc', hint: 'weighted least connections' },
  { value: 'lc', hint: 'least connections' },
  { value: 'sh', hint: 'source hashing: a client sticks to a server' },
  { value: 'mh', hint: 'Maglev hashing' },
  { value: 'dh', hint: 'destination hashing' },
  { value: 'lblc', hint: 'locality-based least connections' },
  { value: 'lblcr', hint: 'locality-based least connections with replication' },
  { value: 'sed', hint: 'shortest expected delay' },
  { value: 'nq', hint: 'never queue' },
  { value: 'fo', hint: 'weighted fail-over' },
  { value: 'ovf', hint: 'weighted overflow' },
  { value: 'twos', hint: 'weighted random twos choice' },
] as const;

/** Forwarding methods (LVS_FORWARDING in core). */
export const FORWARDING = [
  { value: 'DR', hint: 'direct routing: servers answer clients directly; the port cannot change' },
  { value: 'NAT', hint: 'the director rewrites the destination and sees the replies' },
  { value: 'TUN', hint: 'IP-in-IP tunnelling; the port cannot change' },
  { value: 'FNAT', hint: "FULLNAT (Alibaba's fork): both addresses rewritten through a local-address group" },
] as const;

export const CHECK_TYPES = [
  { value: 'TCP_CHECK', label: 'TCP connect' },
  { value: 'HTTP_GET', label: 'HTTP GET' },
  { value: 'UDP_CHECK', label: 'UDP' },
  { value: 'none', label: 'none' },
] as const;

/** What the virtual-service form holds: the API's field names, numbers possibly cleared. */
export interface VsDraft {
  vip?: string;
  port?: number | null;
  protocol: 'TCP' | 'UDP';
  realPort?: number | null;
  scheduler: string;
  forwarding: 'DR' | 'NAT' | 'TUN' | 'FNAT';
  persistenceTimeout?: number | null;
  synProxy: boolean;
  localAddressGroup?: string;
  delayLoop?: number | null;
  healthCheck: {
    type: 'none' | 'TCP_CHECK' | 'UDP_CHECK' | 'HTTP_GET';
    path?: string;
    statusCode?: number | null;
    connectTimeout?: number | null;
    retry?: number | null;
    delayBeforeRetry?: number | null;
    connectPort?: number | null;
  };
}

export const NEW_VS: VsDraft = { protocol: 'TCP', scheduler: 'wrr', forwarding: 'DR', synProxy: false, healthCheck: { type: 'TCP_CHECK', connectTimeout: 3 } };

/** The form's starting point from a stored virtual service. */
export function vsDraftOf(vs: VirtualService): VsDraft {
  return { ...vs, healthCheck: { ...vs.healthCheck } };
}

const set = (v: unknown) => v !== undefined && v !== null && !(typeof v === 'string' && v.trim() === '');
const pick = <K extends string>(src: Partial<Record<K, unknown>>, keys: readonly K[]) => Object.fromEntries(keys.filter((k) => set(src[k])).map((k) => [k, typeof src[k] === 'string' ? (src[k] as string).trim() : src[k]]));

/** The body of one virtual service; the server validates every rule (FNAT only, UDP checks…). */
export function vsBodyOf(d: VsDraft): LvsVirtualServiceInput {
  const hc = d.healthCheck ?? { type: 'TCP_CHECK' };
  const timing = ['connectTimeout', 'retry', 'delayBeforeRetry', 'connectPort'] as const;
  const healthCheck =
    hc.type === 'none' ? { type: 'none' as const } : hc.type === 'HTTP_GET' ? { type: hc.type, ...pick(hc, ['path', 'statusCode', ...timing]) } : { type: hc.type, ...pick(hc, timing) };
  return {
    vip: (d.vip ?? '').trim(),
    port: d.port ?? 0,
    protocol: d.protocol,
    scheduler: d.scheduler,
    forwarding: d.forwarding,
    synProxy: d.forwarding === 'FNAT' && d.synProxy,
    ...pick(d, ['realPort', 'persistenceTimeout', 'delayLoop']),
    ...(d.forwarding === 'FNAT' ? pick(d, ['localAddressGroup']) : {}),
    healthCheck,
  } as LvsVirtualServiceInput;
}

/** `10.0.0.1:80/TCP`, with IPv6 bracketed. */
export function vipLabel(vs: Pick<VirtualService, 'vip' | 'port' | 'protocol'>): string {
  return `${vs.vip.includes(':') ? `[${vs.vip}]` : vs.vip}:${vs.port}/${vs.protocol}`;
}

/** A health check in a few words. */
export function checkLabel(hc: VirtualService['healthCheck']): string {
  switch (hc.type) {
    case 'none':
      return 'none';
    case 'HTTP_GET':
      return `HTTP GET ${hc.path} → ${hc.statusCode}`;
    default:
      return `${hc.type === 'TCP_CHECK' ? 'TCP' : 'UDP'} connect, ${hc.connectTimeout}s timeout`;
  }
}

/** The ports real servers are reached on, each once. */
export function realPorts(list: readonly VirtualService[]): number[] {
  return [...new Set(list.map((vs) => vs.realPort ?? vs.port))].sort((a, b) => a - b);
}
