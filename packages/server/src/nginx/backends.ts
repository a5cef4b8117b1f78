/**
 * Where the servers behind a service come from: the discovery registry's instances of the service
 * node. The proxy capabilities see it through this small interface, so they neither reach into
 * discovery's insides nor care how it stores instances.
 */
import type { UpstreamServer } from './model.ts';

/** One instance of a service node, as the proxies need it. */
export interface BackendInstance {
  /** IP literal the instance answers on; '' when the machine has no address. */
  ip: string;
  port: number;
  weight: number;
  status: 'up' | 'draining' | 'down';
  health: 'passing' | 'warning' | 'critical';
  /** False once the machine left the node, retired or lost its address: never routed to. */
  bound: boolean;
  /** Takes traffic by discovery's one selection rule (`markServing` in @canopy/core: health, protect threshold). */
  serving: boolean;
}

/** The instances of service nodes, and a signal when they change. */
export interface BackendSource {
  instancesOf(nodeId: number): readonly BackendInstance[];
  /** `listener` gets the service node ids whose instances may have changed. */
  onChange(listener: (nodeIds: readonly number[]) => void): void;
}

/** A source with no instances: proxies still render, every upstream answering 502. */
export const NO_BACKENDS: BackendSource = { instancesOf: () => [], onChange: () => {} };

/**
 * Where an instance stands for a proxy: what discovery answers as serving is up, so a protected
 * service's critical instances keep their traffic as in DNS and the SDK; draining stays draining
 * (nginx `down`, IPVS weight 0 keep existing connections); anything else is down.
 */
export function proxyStatus(i: BackendInstance): UpstreamServer['status'] {
  if (i.serving) return 'up';
  return i.status === 'draining' && i.health !== 'critical' ? 'draining' : 'down';
}

/**
 * The instances serving `port`, one per address (the first by port order wins a tie), in
 * address order. A service exposing several ports is proxied on the one its settings name.
 */
export function serversOn(source: BackendSource, nodeId: number, port: number): UpstreamServer[] {
  const seen = new Set<string>();
  const out: UpstreamServer[] = [];
  for (const i of source.instancesOf(nodeId)) {
    if (!i.bound || i.ip === '' || i.port !== port || seen.has(i.ip)) continue;
    seen.add(i.ip);
    out.push({ address: i.ip, weight: i.weight, status: proxyStatus(i) });
  }
  return out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

/** `10.0.0.1 up w1, 10.0.0.2 draining w1`: a short account of servers for reasons and logs. */
export function describeServers(servers: readonly UpstreamServer[]): Map<string, string> {
  return new Map(servers.map((s) => [s.address, `${s.status} weight ${s.weight}`]));
}

/** What changed between two server lists of one service, e.g. `10.0.0.2:8080 up → draining`. */
export function serverChanges(before: readonly UpstreamServer[], after: readonly UpstreamServer[], port: number): string[] {
  const a = describeServers(before);
  const b = describeServers(after);
  const out: string[] = [];
  const addr = (ip: string) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
  for (const [ip, now] of b) {
    const was = a.get(ip);
    if (was === undefined) out.push(`${addr(ip)} added (${now})`);
    else if (was !== now) out.push(`${addr(ip)} ${was} → ${now}`);
  }
  for (const ip of a.keys()) if (!b.has(ip)) out.push(`${addr(ip)} removed`);
  return out;
}
