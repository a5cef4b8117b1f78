/** HTTP routes for aliases, declared dependencies and the dependency graph. */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AliasInput, AliasView, DependenciesInput, DependenciesView, GraphQuery, GraphView, NodePath, ValidationError } from '@canopy/core';
import type { AuthService } from '../auth/index.ts';
import { actorOf } from '../http/auth.ts';
import { PathParams } from '../http/route-helpers.ts';
import type { DiscoveryAccess } from './access.ts';
import type { DiscoveryService } from './service.ts';

const tags = ['discovery'];

/** Routes under /api/v1/aliases and /api/v1/services/{path}/{dependencies,graph}. */
export function linkRoutes(discovery: DiscoveryService, access: DiscoveryAccess, auth: AuthService): FastifyPluginAsyncZod {
  return async (app) => {
    // Switching needs write where the alias lives and read on what it will answer with.
    app.put('/aliases/:path', { schema: { tags, params: PathParams, body: AliasInput, response: { 200: AliasView, 201: AliasView } } }, async (req, reply) => {
      const actor = actorOf(req);
      access.alias(actor, 'discovery.write', req.params.path);
      if (req.body.target === req.params.path) throw new ValidationError('an alias cannot name itself', [{ path: ['body', 'target'], message: 'forms a loop' }]);
      access.read(actor, req.body.target);
      const { alias, created } = await discovery.putAlias(actor, req.params.path, req.body.target);
      return reply.status(created ? 201 : 200).send(alias);
    });

    app.get('/aliases/:path', { schema: { tags, params: PathParams, response: { 200: AliasView } } }, async (req) => {
      access.alias(actorOf(req), 'discovery.read', req.params.path);
      return discovery.alias(req.params.path);
    });

    app.get('/aliases', { schema: { tags, querystring: z.strictObject({ under: NodePath.optional() }), response: { 200: z.object({ items: z.array(AliasView) }) } } }, async (req) => {
      const actor = actorOf(req);
      const visible = (path: string) => {
        const anchor = access.anchorOf(path);
        return anchor ? auth.can(actor, 'discovery.read', anchor.id) : actor.superuser;
      };
      return { items: discovery.listAliases(req.query.under, visible) };
    });

    app.delete('/aliases/:path', { schema: { tags, params: PathParams } }, async (req, reply) => {
      const actor = actorOf(req);
      access.alias(actor, 'discovery.write', req.params.path);
      await discovery.deleteAlias(actor, req.params.path);
      return reply.status(204).send();
    });

    app.put('/services/:path/dependencies', { schema: { tags, params: PathParams, body: DependenciesInput, response: { 200: DependenciesView } } }, async (req) => {
      const actor = actorOf(req);
      access.write(actor, req.params.path);
      for (const s of req.body.services) access.read(actor, s);
      return discovery.setDependencies(actor, req.params.path, req.body.services);
    });

    app.get('/services/:path/dependencies', { schema: { tags, params: PathParams, response: { 200: DependenciesView } } }, async (req) => {
      auth.nodeFor(actorOf(req), 'discovery.read', req.params.path);
      return discovery.dependencies(req.params.path);
    });

    app.get('/services/:path/graph', { schema: { tags, params: PathParams, querystring: GraphQuery, response: { 200: GraphView } } }, async (req) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'discovery.read', req.params.path);
      return discovery.graph(req.params.path, req.query.depth, (n) => auth.can(actor, 'discovery.read', n.id));
    });
  };
}
