/** The server's configuration: parsed once from the environment into a typed, frozen object. */
import { z } from 'zod';
import { ValidationError } from '@canopy/core';

const schema = z.object({
  /** TCP port of the HTTP API and console. */
  port: z.coerce.number().int().min(0).max(65535).default(7070),
  /** Address to listen on; loopback by default so a fresh install is not exposed. */
  host: z.string().min(1).default('127.0.0.1'),
  /** Where the embedded PGlite database keeps its files. Ignored when databaseUrl is set. */
  dataDir: z.string().min(1).default('./data'),
  /** `postgres://…` switches from embedded PGlite to a PostgreSQL server. */
  databaseUrl: z.string().url().optional(),
  /** Password for the `admin` user created on first start; generated and printed once when absent. */
  adminPassword: z.string().min(8).optional(),
  /** Directory of the built web console; served at `/` when it exists. */
  webDir: z.string().optional(),
  /** Largest request body accepted, in bytes. */
  bodyLimit: z.coerce.number().int().min(1024).default(10 * 1024 * 1024),
  /** Lifetime of a console/CLI login session, in hours. */
  sessionHours: z.coerce.number().positive().default(12),
  /** Log level of the server's logger. */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** UDP/TCP port of the DNS server; off when unset. */
  dnsPort: z.coerce.number().int().min(0).max(65535).optional(),
  /** Address the DNS server binds; loopback by default, like `host`. */
  dnsHost: z.string().min(1).default('127.0.0.1'),
  /** Zone the DNS server answers for: `web.ops.corp.<dnsDomain>` is the service corp.ops.web. */
  dnsDomain: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, 'dot-separated lower-case DNS labels').max(200).default('svc.canopy'),
  /** Seconds DNS answers (and negative answers) may be cached. */
  dnsTtl: z.coerce.number().int().min(0).max(3600).default(5),
  /** http(s) URL of the classes file the Puppet code base publishes; unset: upload it through the API. */
  puppetClassesUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Seconds between refreshes of the classes catalog from puppetClassesUrl; 0: only at start and on demand. */
  puppetClassesRefreshSeconds: z.coerce.number().int().min(0).default(300),
  /** Hours an install (provisioning) request stays open, unless it names its own TTL. */
  provisioningTtlHours: z.coerce.number().int().min(1).max(2160).default(168),
  /**
   * Several replicas on one host share the HTTP (and DNS) port, the kernel spreading connections
   * over them (SO_REUSEPORT): how one host uses more than one core, e.g. for 10,000s of watchers.
   * Needs DATABASE_URL: replicas agree through PostgreSQL, and a PGlite directory is one process's.
   */
  reusePort: z.stringbool().default(false),
  /** One access-log line per HTTP request on stdout (method, path, status, duration, user): on or off. */
  accessLog: z.stringbool().default(true),
  /** Prometheus to read dashboards from (http(s) URL); unset: the embedded metrics store. */
  prometheusUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Prometheus mode: nodes with at least this many machines get recording rules for their panels. */
  prometheusRecordMinMachines: z.coerce.number().int().min(1).default(100),
  /** Prometheus mode: evaluation interval of those recording rules, in seconds. */
  prometheusRecordIntervalSeconds: z.coerce.number().int().min(1).max(3600).default(60),
  /** Seconds between writes of the embedded metrics history; a kill -9 loses at most this much of it. */
  monitorFlushSeconds: z.coerce.number().int().min(5).max(3600).default(300),
  /** Newest nginx/LVS config versions per cluster that keep their files, snapshot and diff (older ones keep only metadata). */
  configKeepVersions: z.coerce.number().int().min(2).default(100),
  /** PEM file of the server's certificate (with its chain); with tlsKey the server listens with HTTPS only. */
  tlsCert: z.string().min(1).optional(),
  /** PEM file of the certificate's private key; set both or neither. */
  tlsKey: z.string().min(1).optional(),
  /**
   * The control center's URL as machines reach it (`https://canopy.example.com:7070`): written into
   * the agent install script. Unset: taken from the request's Host, which must then be a valid host.
   */
  publicUrl: z
    .url({ protocol: /^https?$/ })
    .refine((u) => {
      if (!URL.canParse(u)) return true; // z.url has said why
      const p = new URL(u);
      return p.pathname === '/' && !p.search && !p.hash && !p.username && !/[?#]/.test(u);
    }, 'scheme, host and port only (no path, query or user)')
    .transform((u) => new URL(u).origin)
    .optional(),
});

export type Config = Readonly<z.infer<typeof schema>>;

/** Read the configuration from environment variables (CANOPY_*, DATABASE_URL). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = {
    port: env['CANOPY_PORT'],
    host: env['CANOPY_HOST'],
    dataDir: env['CANOPY_DATA_DIR'],
    databaseUrl: env['DATABASE_URL'] || undefined,
    adminPassword: env['CANOPY_ADMIN_PASSWORD'] || undefined,
    webDir: env['CANOPY_WEB_DIR'],
    bodyLimit: env['CANOPY_BODY_LIMIT'],
    sessionHours: env['CANOPY_SESSION_HOURS'],
    logLevel: env['CANOPY_LOG_LEVEL'],
    dnsPort: env['CANOPY_DNS_PORT'] || undefined,
    dnsHost: env['CANOPY_DNS_HOST'] || undefined,
    dnsDomain: env['CANOPY_DNS_DOMAIN'] || undefined,
    dnsTtl: env['CANOPY_DNS_TTL'] || undefined,
    puppetClassesUrl: env['CANOPY_PUPPET_CLASSES_URL'] || undefined,
    puppetClassesRefreshSeconds: env['CANOPY_PUPPET_CLASSES_REFRESH_SECONDS'] || undefined,
    provisioningTtlHours: env['CANOPY_PROVISIONING_TTL_HOURS'] || undefined,
    configKeepVersions: env['CANOPY_CONFIG_KEEP_VERSIONS'] || undefined,
    prometheusUrl: env['CANOPY_PROMETHEUS_URL'] || undefined,
    prometheusRecordMinMachines: env['CANOPY_PROMETHEUS_RECORD_MIN_MACHINES'] || undefined,
    prometheusRecordIntervalSeconds: env['CANOPY_PROMETHEUS_RECORD_INTERVAL_SECONDS'] || undefined,
    monitorFlushSeconds: env['CANOPY_MONITOR_FLUSH_SECONDS'] || undefined,
    reusePort: env['CANOPY_REUSE_PORT'] || undefined,
    accessLog: env['CANOPY_ACCESS_LOG'] || undefined,
    tlsCert: env['CANOPY_TLS_CERT'] || undefined,
    tlsKey: env['CANOPY_TLS_KEY'] || undefined,
    publicUrl: env['CANOPY_PUBLIC_URL'] || undefined,
  };
  const parsed = schema
    .refine((c) => (c.tlsCert === undefined) === (c.tlsKey === undefined), { path: ['tlsKey'], message: 'CANOPY_TLS_CERT and CANOPY_TLS_KEY go together: set both (HTTPS) or neither (HTTP)' })
    .refine((c) => !c.reusePort || c.databaseUrl !== undefined, { path: ['reusePort'], message: "CANOPY_REUSE_PORT needs DATABASE_URL: replicas share PostgreSQL, and PGlite's data directory belongs to one process" })
    .safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
  if (!parsed.success) {
    throw new ValidationError(
      'invalid configuration',
      parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
    );
  }
  return Object.freeze(parsed.data);
}
