/** Discovery read shapes: resolution answers, blocking-query and watch parameters, aliases, graphs. */
import { z } from 'zod';
import { NodePath, Timestamp } from '../schemas/common.ts';
import { DEFAULT_WAIT_MS, InstanceView, LbPolicy, MAX_WAIT_MS, ServicePort } from './schema.ts';

/** `true`/`false`/`1`/`0` in a query string. */
export const QueryBool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const Zone = z.string().max(63).regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a DNS label');
const Revision = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** `30s`, `5m`, `1500ms` or bare milliseconds → milliseconds, capped at MAX_WAIT_MS (as Consul caps). */
export function parseWait(text: string): number {
  const m = /^(\d{1,9})(ms|s|m)?$/.exec(text);
  if (!m) return DEFAULT_WAIT_MS;
  const n = Number(m[1]);
  const ms = m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n;
  return Math.min(ms, MAX_WAIT_MS);
}
export const WaitDuration = z
  .string()
  .regex(/^\d{1,9}(ms|s|m)?$/, 'a duration such as 30s, 5m or 1500ms')
  .transform(parseWait);

export const InstancesQuery = z.strictObject({
  /** Only what a client should send traffic to: up, bound, not critical (protect threshold and zones applied). */
  healthy: QueryBool.default(false),
  /** The caller's zone, for zone-aware services (ignored without `healthy`). */
  zone: Zone.optional(),
  /** Blocking query: answer once the service's index passes this. */
  index: Revision.optional(),
  wait: WaitDuration.optional(),
  /** The calling service's node, recorded as an observed dependency edge. */
  caller: NodePath.optional(),
});

/** The answer to "where is this service?": what a client balances over, and why. */
export const Answer = z.object({
  found: z.literal(true),
  /** The path asked for. */
  path: z.string(),
  /** The service's current path (differs after an alias or a rename). */
  service: z.string(),
  /** Aliases and old paths followed on the way, in order. */
  aliasChain: z.array(z.string()),
  /** Change-feed revision of the last change to this answer; the blocking-query index. */
  index: z.number().int(),
  policy: LbPolicy,
  ports: z.array(ServicePort),
  /** The protect threshold tripped: unhealthy instances are included. */
  protected: z.boolean(),
  /** Too few healthy instances in the caller's zone: other zones are included. */
  zoneFallback: z.boolean(),
  /** Bound, up instances; and how many of them are not critical. */
  total: z.number().int(),
  healthy: z.number().int(),
  instances: z.array(InstanceView),
});
export type Answer = z.infer<typeof Answer>;

/** A watched path that does not resolve (or that the watcher may not read). */
export const Unresolved = z.object({ found: z.literal(false), path: z.string() });
export const WatchedAnswer = z.union([Answer, Unresolved]);
export type WatchedAnswer = z.infer<typeof WatchedAnswer>;

/** The `data:` of every SSE event (`snapshot` and `change`). */
export const WatchEvent = z.object({ revision: z.number().int(), services: z.array(WatchedAnswer) });
export type WatchEvent = z.infer<typeof WatchEvent>;

export const WatchQuery = z.strictObject({
  services: z
    .string()
    .max(16_384)
    .transform((s) => [...new Set(s.split(',').filter(Boolean))])
    .pipe(z.array(NodePath).min(1, 'name at least one service').max(256, 'at most 256 services per watch')),
  /** Resume after this revision (the `Last-Event-ID` header wins when both are sent). */
  since: Revision.optional(),
  healthy: QueryBool.default(false),
  zone: Zone.optional(),
  caller: NodePath.optional(),
});

export const ListServicesQuery = z.strictObject({
  under: NodePath.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** The last path of the previous page. */
  cursor: NodePath.optional(),
});

export const AliasInput = z.strictObject({ target: NodePath });
export const AliasView = z.object({
  path: z.string(),
  /** The current path of what the alias names (a service, or another alias). */
  target: z.string(),
  /** Where the chain ends, or null if it is dangling. */
  resolvesTo: z.string().nullable(),
  chain: z.array(z.string()),
  version: z.number().int(),
  updatedAt: Timestamp,
});
export type AliasView = z.infer<typeof AliasView>;

export const DependenciesInput = z.strictObject({
  services: z
    .array(NodePath)
    .max(256)
    .refine((s) => new Set(s).size === s.length, 'list each service once'),
});
export const DependenciesView = z.object({
  path: z.string(),
  /** The declared services the caller may read. */
  services: z.array(z.string()),
  /** How many declared services lie where the caller may not read (API answers always set it). */
  hiddenCount: z.number().int().optional(),
});

export const GraphQuery = z.strictObject({ depth: z.coerce.number().int().min(1).max(5).default(1) });
export const GraphNode = z.object({ id: z.number().int(), path: z.string(), service: z.boolean() });
export const GraphEdge = z.object({
  from: z.string(),
  to: z.string(),
  declared: z.boolean(),
  /** Lookups seen from `from` resolving `to` (0 when only declared). */
  observedCalls: z.number().int(),
  lastSeen: Timestamp.nullable(),
});
export const GraphView = z.object({
  root: z.string(),
  depth: z.number().int(),
  nodes: z.array(GraphNode),
  edges: z.array(GraphEdge),
  /** Services the root calls, and services that call it. */
  upstreams: z.array(z.string()),
  downstreams: z.array(z.string()),
});
export type GraphView = z.infer<typeof GraphView>;
