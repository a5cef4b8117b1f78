/**
 * Service discovery: the registry of services (tree nodes) and their instances (machine + port),
 * health from TTL heartbeats, blocking queries and SSE watches, aliases and the dependency graph.
 *
 * For the DNS server, the SDK bridge and the console — build on `DiscoveryService`, never on this
 * folder's insides. Everything below answers from memory, synchronously, on every replica alike:
 *
 *   discovery.resolve(path, { zone?, healthyOnly? = true }): Answer | undefined
 *     What a client should use for `path` (a service path, an alias, or an old path of a renamed
 *     or moved service): `{ found, path, service, aliasChain, index, policy: {algorithm, hashKey?},
 *     ports: [{name, port}], protected, zoneFallback, total, healthy, instances: [{ hostname, ip,
 *     port, portName, weight, zone, status, health, bound, … }] }`. Instances are in (hostname,
 *     port) order, so `createBalancer(policy.algorithm, …)` from @canopy/core picks as nginx does.
 *     With healthyOnly, maintenance (draining/down) and critical instances are left out, the
 *     protect threshold and zone preference applied (`selectInstances` in @canopy/core is the
 *     same rule, for the SDK). Every instance carries `serving` (`markServing` in @canopy/core:
 *     the zone-less selection), which nginx upstreams and LVS real servers route by, so proxies,
 *     DNS and the SDK see one set. Undefined when the path leads to no service. No authorization:
 *     callers that serve untrusted clients check `discovery.read` themselves.
 *   discovery.lookupAlias(path): { target, kind: 'alias' | 'renamed' } | undefined
 *     The next name of `path` when it is an alias or an old path (a DNS CNAME), else undefined.
 *   discovery.subscribe(listener): () => void
 *     `listener({ revision, services: [current paths], aliases: [paths], reroute })` after every
 *     change that may alter an answer (registry, health transitions, machines, renames, aliases).
 *   discovery.watch(paths, (revision, changedPaths) => …): () => void
 *     Per-path watching, indexed by target service; what the SSE route uses.
 *   discovery.changedSince(paths, revision): [revision, paths][] | undefined
 *     Resumption: which of `paths` changed after `revision` (undefined: too far back, resync).
 *   discovery.revision(): number — the change-feed revision this replica has applied.
 *
 * HTTP (under /api/v1; see routes.ts, watch-routes.ts, link-routes.ts):
 *   PUT|GET|DELETE /services/{path}, GET /services?under=
 *   PUT|GET|DELETE /services/{path}/instances/{hostname}/{port}
 *   PUT /services/{path}/instances/{hostname}/{port}/heartbeat  {status: pass|warn|fail}
 *   GET /services/{path}/instances?healthy=&zone=&index=&wait=&caller=   → Answer, X-Canopy-Index
 *   GET /watch?services=a.b,c.d&since=&healthy=&zone=                   → text/event-stream
 *   (Reads default to the full instance list, for display; clients pass healthy=true.)
 *   PUT|GET|DELETE /aliases/{path} {target}, GET /aliases?under=
 *   PUT|GET /services/{path}/dependencies {services}, GET /services/{path}/graph?depth=
 */
import type { FastifyPluginAsync } from 'fastify';
import type { AuthService } from '../auth/index.ts';
import type { TreeService } from '../tree/index.ts';
import { createDiscoveryAccess, type DiscoveryAccessOptions } from './access.ts';
import { linkRoutes } from './link-routes.ts';
import { registryRoutes } from './routes.ts';
import type { DiscoveryService } from './service.ts';
import { watchRoutes } from './watch-routes.ts';

export { createDiscoveryService, type DiscoveryService, type DiscoveryOptions, type RegistryChange } from './service.ts';
export { DISCOVERY_TOPIC, type DiscoveryChange } from './records.ts';
export type { DiscoveryAccessOptions } from './access.ts';

/** Every discovery route plugin, to mount under /api/v1. */
export function discoveryRoutes(discovery: DiscoveryService, auth: AuthService, tree: TreeService, opts: DiscoveryAccessOptions = {}): FastifyPluginAsync[] {
  const access = createDiscoveryAccess(discovery, auth, tree, opts);
  return [registryRoutes(discovery, access, auth), watchRoutes(discovery, access), linkRoutes(discovery, access, auth)] as FastifyPluginAsync[];
}
