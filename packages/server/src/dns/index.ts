/**
 * The DNS server: service discovery answered over DNS (UDP and TCP, `CANOPY_DNS_PORT`, off by
 * default), authoritative for one zone (`CANOPY_DNS_DOMAIN`, default `svc.canopy`). Every answer
 * comes from `discovery.resolve(path, {zone, healthyOnly: true})`, so DNS clients see exactly the
 * instances the HTTP API and the SDK see: maintenance and critical instances left out, the protect
 * threshold and zone preference applied.
 *
 * Records (every TTL `CANOPY_DNS_TTL`, default 5 s; AA set on every in-zone answer):
 *   web.ops.corp.svc.canopy  A / AAAA   the distinct addresses of the healthy instances of service
 *                                       corp.ops.web (its node path reversed), rotated per query;
 *                                       ANY gives both.
 *   _http._tcp.web.ops.corp.svc.canopy  SRV  one per healthy instance serving the port named `http`:
 *                                       priority 0, weight = instance weight, its port, target
 *                                       `<hex ip>.addr.svc.canopy`, whose A/AAAA is in the additional
 *                                       section. An unknown port name is NXDOMAIN.
 *   0a000001.addr.svc.canopy  A         10.0.0.1 (AAAA for 32 hex digits): the SRV targets. A service
 *                                       or node with such a path wins over the synthetic name.
 *   aliases and old paths of renamed services answer CNAME, one record per hop of the chain, then
 *   the final service's records in the same answer section (as resolvers expect); a CNAME question
 *   gets the first hop only. `_port._tcp` names follow the chain with their prefix.
 *   svc.canopy  SOA                     serial = the change-feed revision; minimum = the TTL.
 * Negative answers carry the SOA in authority (RFC 2308):
 *   NXDOMAIN  names in the zone that lead to nothing (no service, alias or tree node there);
 *   NODATA    names that exist without records of the type asked: a service with no healthy
 *             instance of that family, a tree node that is not a service (so resolvers that
 *             minimise query names walk down the tree), `_tcp.<service>`, the apex.
 *   REFUSED   names outside the zone (this is no recursive resolver); NOTIMP other opcodes.
 * Zone-aware: the query's source address is looked up among the machines' IPs; the machine's zone
 * is passed to resolve, so a client in zone z1 gets z1's instances of a zone-aware service first.
 * Aliases above every tree root do not make their ancestors exist (they answer NXDOMAIN).
 * UDP answers larger than 512 bytes (or the client's EDNS size, at most 4096) are sent empty with
 * TC set; clients then ask over TCP.
 */
import type { ChangeFeed } from '../changes/index.ts';
import type { DiscoveryService } from '../discovery/index.ts';
import type { MachineService } from '../machines/index.ts';
import type { TreeService } from '../tree/index.ts';
import { createClientIndex } from './clients.ts';
import { canonicalName, isZoneDomain } from './names.ts';
import { createResponder } from './responder.ts';
import { createTransport, type DnsState } from './server.ts';

export type { DnsState } from './server.ts';
export { addrNameOf, dnsNameOf } from './names.ts';

export interface DnsOptions {
  /** UDP and TCP port; 0 picks a free one (read it back with `port()`). */
  port: number;
  /** Address to bind; loopback by default so a fresh install is not exposed. */
  host?: string | undefined;
  /** The zone's suffix; default `svc.canopy`. */
  domain?: string | undefined;
  /** Seconds every record may be cached; default 5. */
  ttl?: number | undefined;
  /** Share the port with other replicas on this host (SO_REUSEPORT), as the HTTP server does. */
  reusePort?: boolean | undefined;
  onError?: ((err: unknown) => void) | undefined;
}

export interface DnsDeps {
  discovery: DiscoveryService;
  tree: Pick<TreeService, 'model'>;
  machines: Pick<MachineService, 'model'>;
  feed: Pick<ChangeFeed, 'on'>;
}

export interface DnsServer {
  state(): DnsState;
  /** The bound port, once running. */
  port(): number;
  /** Bind both sockets; the read models must be loaded (after `services.start()`'s load). */
  start(): Promise<void>;
  /** Close both sockets and every TCP connection. */
  stop(): Promise<void>;
}

/** A DNS server over discovery's registry; create it before the feed moves so no machine change is missed. */
export function createDnsServer(deps: DnsDeps, opts: DnsOptions): DnsServer {
  const domain = canonicalName(opts.domain ?? 'svc.canopy');
  if (!isZoneDomain(domain)) throw new Error(`DNS domain '${domain}' is not a dot-separated list of DNS labels`);
  const clients = createClientIndex(deps);
  const responder = createResponder(
    {
      discovery: deps.discovery,
      nodeExists: (path) => deps.tree.model.byPath(path) !== undefined,
      zoneOf: (address) => clients.lookup(address)?.zone,
    },
    { domain, ttl: opts.ttl ?? 5 },
  );
  const transport = createTransport(responder, { host: opts.host ?? '127.0.0.1', port: opts.port, reusePort: opts.reusePort ?? false, onError: opts.onError ?? (() => {}) });
  return {
    state: transport.state,
    port: transport.port,
    async start() {
      clients.load();
      await transport.start();
    },
    stop: transport.stop,
  };
}
