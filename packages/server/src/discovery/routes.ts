/** HTTP routes for services, instances and heartbeats: parse, authorize, call the service, answer. */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { HeartbeatInput, HeartbeatView, InstanceInput, InstanceParams, InstanceView, ListServicesQuery, QueryBool, ServiceInput, ServiceView } from '@canopy/core';
import type { AuthService } from '../auth/index.ts';
import type { Actor } from '../changes/index.ts';
import { actorOf } from '../http/auth.ts';
import { PathParams } from '../http/route-helpers.ts';
import type { DiscoveryAccess } from './access.ts';
import type { DiscoveryService } from './service.ts';

const tags = ['discovery'];

/** Routes under /api/v1/services (registry and health). */
export function registryRoutes(discovery: DiscoveryService, access: DiscoveryAccess, auth: AuthService): FastifyPluginAsyncZod {
  // A service's declared dependencies name only those the caller may read (as the graph does).
  const seenBy = (actor: Actor) => (v: ServiceView): ServiceView => ({
    ...v,
    dependencies: v.dependencies.filter((p) => {
      const n = access.anchorOf(p);
      return n !== undefined && n.path === p && auth.can(actor, 'discovery.read', n.id);
    }),
  });

  return async (app) => {
    app.get('/services', { schema: { tags, querystring: ListServicesQuery, response: { 200: z.object({ items: z.array(ServiceView), nextCursor: z.string().optional() }) } } }, async (req) => {
      const actor = actorOf(req);
      if (req.query.under) auth.nodeFor(actor, 'tree.read', req.query.under);
      const page = discovery.list(req.query.under, (n) => auth.can(actor, 'discovery.read', n.id), req.query.limit, req.query.cursor);
      return { ...page, items: page.items.map(seenBy(actor)) };
    });

    app.put('/services/:path', { schema: { tags, params: PathParams, body: ServiceInput, response: { 200: ServiceView, 201: ServiceView } } }, async (req, reply) => {
      const actor = actorOf(req);
      access.write(actor, req.params.path);
      const { service, created } = await discovery.putService(actor, req.params.path, req.body);
      return reply.status(created ? 201 : 200).header('x-canopy-index', String(service.index)).send(seenBy(actor)(service));
    });

    app.get('/services/:path', { schema: { tags, params: PathParams, response: { 200: ServiceView } } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'discovery.read', req.params.path);
      const service = discovery.get(req.params.path);
      return reply.header('x-canopy-index', String(service.index)).send(seenBy(actor)(service));
    });

    app.delete('/services/:path', { schema: { tags, params: PathParams, querystring: z.strictObject({ force: QueryBool.default(false) }) } }, async (req, reply) => {
      const actor = actorOf(req);
      access.write(actor, req.params.path);
      await discovery.deleteService(actor, req.params.path, req.query.force);
      return reply.status(204).send();
    });

    app.put('/services/:path/instances/:hostname/:port', { schema: { tags, params: InstanceParams, body: InstanceInput, response: { 200: InstanceView, 201: InstanceView } } }, async (req, reply) => {
      const actor = actorOf(req);
      const { path, hostname, port } = req.params;
      access.writeInstance(actor, path, hostname);
      const { instance, created } = await discovery.putInstance(actor, path, hostname, port, req.body);
      return reply.status(created ? 201 : 200).send(instance);
    });

    app.get('/services/:path/instances/:hostname/:port', { schema: { tags, params: InstanceParams, response: { 200: InstanceView } } }, async (req) => {
      const { path, hostname, port } = req.params;
      access.read(actorOf(req), path);
      return discovery.instance(path, hostname, port);
    });

    app.delete('/services/:path/instances/:hostname/:port', { schema: { tags, params: InstanceParams } }, async (req, reply) => {
      const actor = actorOf(req);
      const { path, hostname, port } = req.params;
      access.writeInstance(actor, path, hostname);
      await discovery.deleteInstance(actor, path, hostname, port);
      return reply.status(204).send();
    });

    // One endpoint for TTL checks: the body says pass (the default), warn or fail. An empty body is a pass.
    app.put(
      '/services/:path/instances/:hostname/:port/heartbeat',
      { schema: { tags, params: InstanceParams, body: HeartbeatInput.nullish(), response: { 200: HeartbeatView } } },
      async (req) => {
        const { path, hostname, port } = req.params;
        access.writeInstance(actorOf(req), path, hostname);
        return discovery.heartbeat(path, hostname, port, req.body ?? { status: 'pass' });
      },
    );
  };
}
