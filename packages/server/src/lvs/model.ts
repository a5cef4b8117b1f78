/**
 * Plain input of the keepalived (LVS) renderer. The API validates each virtual service with the
 * schemas in `@canopy/core` (proxy); the caller adds the node's machines as real servers.
 */

/** Where a machine stands: `draining` keeps its connections but is scheduled nothing new. */
export type RealServerStatus = 'up' | 'draining' | 'down';

/** One destination of a virtual service: a machine of the service node. */
export interface LvsRealServer {
  /** IPv4 or IPv6 literal. */
  address: string;
  /** 0…65535, IPVS's weight; used only while the status is `up`. */
  weight: number;
  status: RealServerStatus;
}

export type LvsProtocol = 'TCP' | 'UDP';
export type LvsForwarding = 'DR' | 'NAT' | 'TUN' | 'FNAT';

/** Timing shared by the checkers; seconds. */
export interface LvsCheckTiming {
  connectTimeout: number;
  retry?: number | undefined;
  delayBeforeRetry?: number | undefined;
  /** Defaults to the real server's port. */
  connectPort?: number | undefined;
}

/** How keepalived decides a real server is alive. */
export type LvsHealthCheck =
  | { type: 'none' }
  | ({ type: 'TCP_CHECK' | 'UDP_CHECK' } & LvsCheckTiming)
  | ({ type: 'HTTP_GET'; path: string; statusCode: number } & LvsCheckTiming);

/** One virtual service: VIP:port/protocol → real servers on `realPort`. */
export interface LvsVirtualService {
  /** Service node path, written as a comment so an operator can tell whose block it is. */
  service?: string | undefined;
  vip: string;
  port: number;
  protocol: LvsProtocol;
  /** Defaults to `port`; DR and TUN require it equal. */
  realPort?: number | undefined;
  /** IPVS scheduler: rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, mh, fo, ovf, twos. */
  scheduler: string;
  forwarding: LvsForwarding;
  persistenceTimeout?: number | undefined;
  /** FULLNAT fork only. */
  synProxy?: boolean | undefined;
  /** FULLNAT fork only: the `local_address_group` FNAT translates through. */
  localAddressGroup?: string | undefined;
  /** Seconds between health checks; keepalived's default when absent. */
  delayLoop?: number | undefined;
  healthCheck: LvsHealthCheck;
  realServers: readonly LvsRealServer[];
}

/** A FULLNAT `local_address_group`: the director's local IPs for FNAT. */
export interface LvsLocalAddressGroup {
  name: string;
  addresses: readonly string[];
}

/**
 * Which keepalived reads the file: `stock` is keepalived ≥ 2.0; `fullnat` is Alibaba's FULLNAT
 * fork (keepalived 1.2.x), which knows FNAT, syn_proxy and local-address groups but has an
 * older checker vocabulary (`nb_get_retry`, no TCP_CHECK retry, no UDP_CHECK).
 */
export type KeepalivedFlavor = 'stock' | 'fullnat';

/** Everything one LVS cluster serves. */
export interface LvsClusterInput {
  flavor: KeepalivedFlavor;
  localAddressGroups?: readonly LvsLocalAddressGroup[] | undefined;
  virtualServices: readonly LvsVirtualService[];
}

/** A generated file, relative to the directory keepalived.conf includes. */
export interface RenderedFile {
  path: string;
  content: string;
}

/** Output of the renderer. */
export interface RenderedConfig {
  files: RenderedFile[];
}
