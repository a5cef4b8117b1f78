/** HTTP routes for aliases, declared dependencies and the dependency graph. */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AliasInput, AliasView, DependenciesInput, DependenciesView, GraphQuery, GraphView, NodePath, ValidationError } from '@canopy/core';
import type { AuthService } from '../auth/index.ts';
import type { Actor } from '../changes/index.ts';
import type { TreeNode } from '../tree/index.ts';
import { actorOf } from '../http/auth.ts';
import { PathParams } from '../http/route-helpers.ts';
import type { DiscoveryAccess } from './access.ts';
import type { DiscoveryService } from './service.ts';

const tags = ['discovery'];

/** Routes under /api/v1/aliases and /api/v1/services/{path}/{dependencies,graph}. */
export function linkRoutes(discovery: DiscoveryService, access: DiscoveryAccess, auth: AuthService): FastifyPluginAsyncZod {
  // The graph's filter: a service the caller may not read is left out of every answer, only counted.
  const readable = (actor: Actor) => (n: TreeNode) => auth.can(actor, 'discovery.read', n.id);
  const seenDeps = (actor: Actor, d: { path: string; services: string[] }) => {
    const services = d.services.filter((p) => {
      const n = access.anchorOf(p);
      return n !== undefined && n.path === p && readable(actor)(n);
    });
    return { ...d, services, hiddenCount: d.services.length - services.length };
  };

  // An alias may lead where the reader may not look (a superuser made it): those steps are hidden.
  const readsPath = (actor: Actor, path: string) => {
    const anchor = access.anchorOf(path);
    return anchor ? auth.can(actor, 'discovery.read', anchor.id) : actor.superuser;
  };
  const seenAlias = (actor: Actor) => (a: AliasView): AliasView => {
    if (actor.superuser) return a;
    const shown = (p: string) => (readsPath(actor, p) ? p : '(hidden)');
    return { ...a, target: shown(a.target), resolvesTo: a.resolvesTo === null ? null : shown(a.resolvesTo), chain: a.chain.filter((p) => readsPath(actor, p)) };
  };

  return async (app) => {
    // Switching needs write where the alias lives and read on what it will answer with.
    app.put('/aliases/:path', { schema: { tags, params: PathParams, body: AliasInput, response: { 200: AliasView, 201: AliasView } } }, async (req, reply) => {
      const actor = actorOf(req);
      access.alias(actor, 'discovery.write', req.params.path);
      if (req.body.target === req.params.path) throw new ValidationError('an alias cannot name itself', [{ path: ['body', 'target'], message: 'forms a loop' }]);
      access.read(actor, req.body.target);
      const { alias, created } = await discovery.putAlias(actor, req.params.path, req.body.target);
      return reply.status(created ? 201 : 200).send(seenAlias(actor)(alias));
    });

    app.get('/aliases/:path', { schema: { tags, params: PathParams, response: { 200: AliasView } } }, async (req) => {
      const actor = actorOf(req);
      access.alias(actor, 'discovery.read', req.params.path);
      return seenAlias(actor)(discovery.alias(req.params.path));
    });

    app.get('/aliases', { schema: { tags, querystring: z.strictObject({ under: NodePath.optional() }), response: { 200: z.object({ items: z.array(AliasView) }) } } }, async (req) => {
      const actor = actorOf(req);
      return { items: discovery.listAliases(req.query.under, (path) => readsPath(actor, path)).map(seenAlias(actor)) };
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
      return seenDeps(actor, await discovery.setDependencies(actor, req.params.path, req.body.services));
    });

    app.get('/services/:path/dependencies', { schema: { tags, params: PathParams, response: { 200: DependenciesView } } }, async (req) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'discovery.read', req.params.path);
      return seenDeps(actor, discovery.dependencies(req.params.path));
    });

    app.get('/services/:path/graph', { schema: { tags, params: PathParams, querystring: GraphQuery, response: { 200: GraphView } } }, async (req) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'discovery.read', req.params.path);
      return discovery.graph(req.params.path, req.query.depth, readable(actor));
    });
  };
}
