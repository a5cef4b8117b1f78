/**
 * Service discovery request and response shapes, shared by the server, the SDK, the CLI and the
 * console. A service is a tree node; an instance is one of the node's machines serving on a port.
 */
import { z } from 'zod';
import { LB_ALGORITHMS, MAX_WEIGHT } from '../lb/index.ts';
import { Hostname, NodePath, safeText, Timestamp } from '../schemas/common.ts';

export const INSTANCE_STATUSES = ['up', 'draining', 'down'] as const;
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];
export const HEALTH_STATES = ['passing', 'warning', 'critical'] as const;
export type HealthState = (typeof HEALTH_STATES)[number];
export const HEARTBEAT_RESULTS = ['pass', 'warn', 'fail'] as const;
export type HeartbeatResult = (typeof HEARTBEAT_RESULTS)[number];

/** nginx's default `weight=`, and Consul's and Nacos's default too: equal unless told otherwise. */
export const DEFAULT_WEIGHT = 1;
/** Longest alias chain a path may follow before it must reach a service. */
export const MAX_ALIAS_DEPTH = 8;
/** Blocking queries never hold a request longer than this. */
export const MAX_WAIT_MS = 5 * 60_000;
/** What a blocking query waits when it names an index but no `wait`. */
export const DEFAULT_WAIT_MS = 30_000;

/** An RFC 6335 service name (the `_http` of an SRV record): 1-15 characters, starts with a letter. */
export const PortName = z
  .string()
  .regex(/^[a-z]([a-z0-9-]{0,13}[a-z0-9])?$/, 'a service port name: 1-15 lower-case letters, digits and inner hyphens, starting with a letter');
export const PortNumber = z.number().int().min(1).max(65535);
export const Weight = z.number().int().min(1).max(MAX_WEIGHT);
const Zone = z.string().max(63).regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)?$/, 'a DNS label or empty');
const Ip = z.union([z.ipv4(), z.ipv6()]);

/** Characters safe in an nginx `hash` directive and an HTTP header name alike. */
const HASH_KEY_RE = /^[A-Za-z0-9_$.:-]{1,128}$/;
const HASHING = new Set(['consistent_hash', 'maglev']);

export const LbPolicy = z
  .strictObject({
    algorithm: z.enum(LB_ALGORITHMS),
    /** What hashing algorithms hash (e.g. `$request_uri`, `x-user-id`); meaningless for the others. */
    hashKey: z.string().regex(HASH_KEY_RE, 'letters, digits and _ $ . : - only, at most 128').optional(),
  })
  .refine((p) => p.hashKey === undefined || HASHING.has(p.algorithm), { message: 'hashKey applies only to consistent_hash and maglev', path: ['hashKey'] });
export type LbPolicy = z.infer<typeof LbPolicy>;

export const ServicePort = z.strictObject({ name: PortName, port: PortNumber });
export type ServicePort = z.infer<typeof ServicePort>;

/** `PUT /services/{path}` replaces the whole definition; omitted fields take their defaults. */
export const ServiceInput = z.strictObject({
  ports: z
    .array(ServicePort)
    .min(1)
    .max(32)
    .refine((ps) => new Set(ps.map((p) => p.name)).size === ps.length, 'port names must be unique'),
  lb: LbPolicy.default({ algorithm: 'wrr' }),
  /** Below this share of healthy instances, answer with every instance (Nacos' protect threshold). */
  protectThreshold: z.number().min(0).max(1).default(0),
  zoneAware: z.boolean().default(false),
  /** Fewer same-zone healthy instances than this and a zone-aware answer spans every zone. */
  zoneMinHealthy: z.number().int().min(1).max(1000).default(1),
  /** Consecutive passing heartbeats before a critical instance serves again. */
  passesBeforePassing: z.number().int().min(1).max(100).default(1),
  /** Consecutive failing heartbeats before a serving instance turns critical. */
  failuresBeforeCritical: z.number().int().min(1).max(100).default(1),
});
export type ServiceInput = z.infer<typeof ServiceInput>;

export const ServiceView = z.object({
  id: z.number().int(),
  path: z.string(),
  ports: z.array(ServicePort),
  lb: LbPolicy,
  protectThreshold: z.number(),
  zoneAware: z.boolean(),
  zoneMinHealthy: z.number().int(),
  passesBeforePassing: z.number().int(),
  failuresBeforeCritical: z.number().int(),
  index: z.number().int(),
  instanceCount: z.number().int(),
  healthyCount: z.number().int(),
  dependencies: z.array(z.string()),
  version: z.number().int(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type ServiceView = z.infer<typeof ServiceView>;

const MetaKey = z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9._/-]{0,62}[A-Za-z0-9])?$/, 'meta keys: letters, digits and . _ / -, 1-64 characters');
export const InstanceMeta = z
  .record(MetaKey, safeText({ max: 512 }))
  .refine((m) => Object.keys(m).length <= 64, 'at most 64 meta entries');

/**
 * `PUT /services/{path}/instances/{hostname}/{port}` creates or updates; on update an omitted field
 * keeps its value, so `{status: "draining"}` drains without touching the weight.
 */
export const InstanceInput = z.strictObject({
  weight: Weight.optional(),
  status: z.enum(INSTANCE_STATUSES).optional(),
  /** Heartbeat TTL; null means the instance is never expected to heartbeat (static). */
  ttlSeconds: z.number().int().min(1).max(86_400).nullable().optional(),
  meta: InstanceMeta.optional(),
  /** One of the machine's addresses; by default its first. */
  ip: Ip.optional(),
  /** The service port this instance serves; by default the one declared with this port number. */
  portName: PortName.optional(),
});
export type InstanceInput = z.infer<typeof InstanceInput>;

export const InstanceParams = z.strictObject({ path: NodePath, hostname: Hostname, port: z.coerce.number().int().min(1).max(65535) });

export const InstanceView = z.object({
  id: z.number().int(),
  hostname: z.string(),
  ip: z.string(),
  port: z.number().int(),
  portName: z.string(),
  weight: z.number().int(),
  zone: z.string(),
  status: z.enum(INSTANCE_STATUSES),
  health: z.enum(HEALTH_STATES),
  /** False once the machine is unbound from the node, retired or left without an address: never answered. */
  bound: z.boolean(),
  /** Set when the machine's agent is unreachable: the instance then answers as critical, whatever its own health. */
  agentUnreachable: z.boolean().optional(),
  /**
   * Takes traffic now by the service's health rule and protect threshold (zones aside): what nginx
   * routes to and LVS weights; the others stay listed with no traffic.
   */
  serving: z.boolean(),
  ttlSeconds: z.number().int().nullable(),
  meta: z.record(z.string(), z.string()),
  version: z.number().int(),
  updatedAt: Timestamp,
});
export type InstanceView = z.infer<typeof InstanceView>;

export const HeartbeatInput = z.strictObject({
  status: z.enum(HEARTBEAT_RESULTS).default('pass'),
  /** A short note from the check (not stored). */
  output: safeText({ max: 1024, multiline: true }).optional(),
});
export type HeartbeatInput = z.infer<typeof HeartbeatInput>;

export const HeartbeatView = z.object({
  health: z.enum(HEALTH_STATES),
  status: z.enum(INSTANCE_STATUSES),
  ttlSeconds: z.number().int().nullable(),
  /** Consecutive passes and failures this replica has counted (flap damping). */
  passes: z.number().int(),
  failures: z.number().int(),
});
