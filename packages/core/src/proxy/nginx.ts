/** API input for a service's Nginx settings and for the domains an Nginx cluster serves. */
import { z } from 'zod';
import {
  certPathSchema,
  domainNameSchema,
  durationSchema,
  hashKeySchema,
  headerNameSchema,
  headerValueSchema,
  locationUriSchema,
  logFileSchema,
  portSchema,
  secondsSchema,
  sizeSchema,
  upstreamNameSchema,
} from './grammar.ts';

/** One listening port of a domain. */
export const nginxDomainPortSchema = z.strictObject({
  port: portSchema,
  ssl: z.boolean().default(false),
});

/** A domain: its ports, log files and, exactly when a port uses ssl, its certificate and key. */
export const nginxDomainSchema = z
  .strictObject({
    domain: domainNameSchema,
    ports: z.array(nginxDomainPortSchema).min(1).max(16),
    /** Defaults to `${domain}_access.log` in the cluster's log directory. */
    accessLogPath: logFileSchema.optional(),
    /** Defaults to `${domain}_error.log` in the cluster's log directory. */
    errorLogPath: logFileSchema.optional(),
    sslCertPath: certPathSchema.optional(),
    sslCertKeyPath: certPathSchema.optional(),
  })
  .superRefine((d, ctx) => {
    const seen = new Set<number>();
    d.ports.forEach((p, i) => {
      if (seen.has(p.port)) ctx.addIssue({ code: 'custom', path: ['ports', i, 'port'], message: `port ${p.port} is listed twice` });
      seen.add(p.port);
    });
    // A file name is at most 255 bytes: `${domain}_access.log` needs the domain within 244.
    if (d.domain.length > 244 && (d.accessLogPath === undefined || d.errorLogPath === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['accessLogPath'], message: 'the domain is too long for the default log names; give both log paths' });
    }
    const ssl = d.ports.some((p) => p.ssl);
    for (const key of ['sslCertPath', 'sslCertKeyPath'] as const) {
      if (ssl && d[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'required when a port uses ssl' });
      if (!ssl && d[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'only allowed when a port uses ssl' });
    }
  });

/** How nginx picks a server in the upstream; `wrr` is nginx's default weighted round robin. */
export const nginxBalanceSchema = z.discriminatedUnion('method', [
  z.strictObject({ method: z.literal('wrr') }),
  z.strictObject({ method: z.literal('least_conn') }),
  z.strictObject({ method: z.literal('ip_hash') }),
  z.strictObject({ method: z.literal('hash'), key: hashKeySchema, consistent: z.boolean().default(true) }),
]);

/** Conditions under which nginx retries the next server (`proxy_next_upstream`). */
export const NEXT_UPSTREAM_CONDITIONS = [
  'error', 'timeout', 'invalid_header', 'http_500', 'http_502', 'http_503', 'http_504', 'http_403',
  'http_404', 'http_429', 'non_idempotent', 'off',
] as const;

/** Header names Canopy always sets for the backend itself; `Connection` keeps upstream keepalive working. */
export const RESERVED_PROXY_HEADERS = ['connection'] as const;

const headerSchema = z.strictObject({ name: headerNameSchema, value: headerValueSchema });
const headersSchema = z
  .array(headerSchema)
  .max(32)
  .superRefine((hs, ctx) => {
    const seen = new Set<string>();
    hs.forEach((h, i) => {
      const lower = h.name.toLowerCase();
      if (seen.has(lower)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `header '${h.name}' is set twice` });
      seen.add(lower);
    });
  });

/**
 * The allow-list of custom attributes. Keys are the nginx directive or `server` parameter names;
 * anything else is refused, so a user cannot smuggle arbitrary directives into the config.
 */
export const nginxAttributesSchema = z.strictObject({
  /** Idle keepalive connections to the backends cached per worker (upstream `keepalive`). */
  keepalive: z.int().min(1).max(10000).optional(),
  keepalive_requests: z.int().min(1).max(1_000_000).optional(),
  keepalive_timeout: durationSchema.optional(),
  /** `server … max_fails=`; 0 disables failure accounting. */
  max_fails: z.int().min(0).max(1000).optional(),
  fail_timeout: secondsSchema.optional(),
  max_conns: z.int().min(0).max(1_000_000).optional(),
  proxy_connect_timeout: durationSchema.optional(),
  proxy_read_timeout: durationSchema.optional(),
  proxy_send_timeout: durationSchema.optional(),
  proxy_next_upstream: z
    .array(z.enum(NEXT_UPSTREAM_CONDITIONS))
    .min(1)
    .max(NEXT_UPSTREAM_CONDITIONS.length)
    .refine((c) => new Set(c).size === c.length, 'conditions must be unique')
    .refine((c) => !c.includes('off') || c.length === 1, "'off' must stand alone")
    .optional(),
  proxy_next_upstream_tries: z.int().min(0).max(100).optional(),
  proxy_next_upstream_timeout: durationSchema.optional(),
  proxy_buffering: z.boolean().optional(),
  proxy_request_buffering: z.boolean().optional(),
  client_max_body_size: sizeSchema.optional(),
  /** Headers sent to the backend; a name equal to a default (Host, X-Real-IP, …) replaces it. */
  proxy_set_header: headersSchema
    .refine((hs) => hs.every((h) => !(RESERVED_PROXY_HEADERS as readonly string[]).includes(h.name.toLowerCase())), {
      message: "the 'Connection' header is managed by Canopy",
    })
    .optional(),
  /** Headers added to responses sent to the client. */
  add_header: headersSchema.optional(),
});

const domainUriSchema = z.strictObject({ domain: domainNameSchema, uri: locationUriSchema });

/** A service node's Nginx settings: where it is served, its upstream and how it balances. */
export const nginxServiceSchema = z.strictObject({
  domainUris: z
    .array(domainUriSchema)
    .min(1)
    .max(256)
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((du, i) => {
        const key = `${du.domain} ${du.uri}`;
        if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i], message: `${du.domain}${du.uri} is listed twice` });
        seen.add(key);
      });
    }),
  /** Defaults to the service path with `.` replaced by `_`. */
  upstream: upstreamNameSchema.optional(),
  /** The port the service's instances listen on. */
  port: portSchema,
  balance: nginxBalanceSchema.default({ method: 'wrr' }),
  attributes: nginxAttributesSchema.default({}),
});

export type NginxDomainInput = z.input<typeof nginxDomainSchema>;
export type NginxDomainSettings = z.output<typeof nginxDomainSchema>;
export type NginxBalanceSettings = z.output<typeof nginxBalanceSchema>;
export type NginxAttributeSettings = z.output<typeof nginxAttributesSchema>;
export type NginxServiceInput = z.input<typeof nginxServiceSchema>;
export type NginxServiceSettings = z.output<typeof nginxServiceSchema>;
