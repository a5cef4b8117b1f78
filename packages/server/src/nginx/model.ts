/**
 * Plain input of the Nginx renderer. The API validates each piece with the schemas in
 * `@canopy/core` (proxy); the caller joins a service's settings with its discovery instances.
 */

/** Where a discovery instance stands: `draining` finishes its requests but takes no new ones. */
export type InstanceStatus = 'up' | 'draining' | 'down';

/** One backend of an upstream: a discovery instance of the service. */
export interface UpstreamServer {
  /** IPv4 or IPv6 literal; host names are refused because nginx resolves them only at load time. */
  address: string;
  /** Overrides the service's port for this instance. */
  port?: number | undefined;
  /** 1…1000, as nginx's `weight=`. */
  weight: number;
  status: InstanceStatus;
}

/** Load-balancing method of an upstream; `wrr` is nginx's default weighted round robin. */
export type NginxBalance =
  | { method: 'wrr' }
  | { method: 'least_conn' }
  | { method: 'ip_hash' }
  | { method: 'hash'; key: string; consistent: boolean };

/** A header set on the proxied request or on the response. */
export interface NginxHeader {
  name: string;
  value: string;
}

/** Allow-listed custom attributes; keys are nginx directive or `server` parameter names. */
export interface NginxAttributes {
  keepalive?: number | undefined;
  keepalive_requests?: number | undefined;
  keepalive_timeout?: string | undefined;
  max_fails?: number | undefined;
  fail_timeout?: string | undefined;
  max_conns?: number | undefined;
  proxy_connect_timeout?: string | undefined;
  proxy_read_timeout?: string | undefined;
  proxy_send_timeout?: string | undefined;
  proxy_next_upstream?: readonly string[] | undefined;
  proxy_next_upstream_tries?: number | undefined;
  proxy_next_upstream_timeout?: string | undefined;
  proxy_buffering?: boolean | undefined;
  proxy_request_buffering?: boolean | undefined;
  client_max_body_size?: string | undefined;
  proxy_set_header?: readonly NginxHeader[] | undefined;
  add_header?: readonly NginxHeader[] | undefined;
}

/** A `{domain, uri}` pair: the service answers `uri` (a prefix location) on `domain`. */
export interface DomainUri {
  domain: string;
  uri: string;
}

/** One service node as Nginx sees it: one upstream, reached from one or more domain URIs. */
export interface NginxService {
  /** Upstream name, unique in the cluster (default: the path with `.` → `_`). */
  upstream: string;
  /** Port of the instances unless an instance names its own. */
  port: number;
  domainUris: readonly DomainUri[];
  balance: NginxBalance;
  attributes: NginxAttributes;
  servers: readonly UpstreamServer[];
}

/** One listening port of a domain. */
export interface NginxDomainPort {
  port: number;
  ssl: boolean;
}

/** A domain the cluster serves: one server block per port. */
export interface NginxDomain {
  domain: string;
  ports: readonly NginxDomainPort[];
  /** File name in the log directory; default `${domain}_access.log`. */
  accessLogPath?: string | undefined;
  /** File name in the log directory; default `${domain}_error.log`. */
  errorLogPath?: string | undefined;
  /** Required exactly when a port uses ssl. */
  sslCertPath?: string | undefined;
  sslCertKeyPath?: string | undefined;
}

/** Everything one Nginx cluster serves. Domain URIs naming other clusters' domains are ignored. */
export interface NginxClusterInput {
  domains: readonly NginxDomain[];
  services: readonly NginxService[];
}

/** Knobs of the rendering that belong to the cluster, not to a service. */
export interface NginxRenderOptions {
  /** Address every `listen` binds, e.g. `127.0.0.1` or `[::1]`; default: all IPv4 addresses. */
  listenAddress?: string | undefined;
  /** Directory the log file names are placed in; default: nginx's prefix. */
  logDir?: string | undefined;
  /** Add a catch-all server per port that answers 404 (plain) or rejects the TLS handshake; default true. */
  defaultServers?: boolean | undefined;
}

/** A location of a domain: the URI and the service that answers it. */
export interface DomainRoute {
  uri: string;
  service: NginxService;
}

/** A generated file, relative to the directory the caller includes inside `http {}`. */
export interface RenderedFile {
  path: string;
  content: string;
}

/** Output of every renderer: files in `include` order (their names sort in that order too). */
export interface RenderedConfig {
  files: RenderedFile[];
}
