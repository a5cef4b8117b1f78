/** HTTP routes of the Puppet ENC: catalog, defaults, node associations, and the answer per host. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { encAssociationInputSchema, encDefaultsSchema, ForbiddenError, NotFoundError, ValidationError } from '@canopy/core';
import type { Actor } from '../changes/index.ts';
import type { AuthService } from '../auth/index.ts';
import { actorOf } from '../http/auth.ts';
import { ifMatch, PathParams, withEtag } from '../http/route-helpers.ts';
import { renderExplain } from './render.ts';
import { CatalogStatusView, DefaultsView, EncParams, EncQueryString, NodePuppetView } from './schema.ts';
import type { EncService } from './service.ts';

const tags = ['puppet'];

/** Routes under /api/v1/puppet, /api/v1/nodes/{path}/puppet and /api/v1/enc/{hostname}. */
export function encRoutes(enc: EncService, auth: AuthService): FastifyPluginAsyncZod {
  // Refreshing only re-reads the configured URL, so anyone who may change some node's classes may.
  function mayRefresh(actor: Actor): void {
    if (actor.superuser) return;
    if (auth.acl.grantRoots(actor).some((id) => auth.can(actor, 'enc.write', id))) return;
    throw new ForbiddenError('refresh the classes catalog (needs enc.write on some node)', 'canopy');
  }

  // The answer reveals every involved node's configuration, so enc.read is needed on each.
  function authorizeAnswer(actor: Actor, hostname: string, nodeIds: number[]): void {
    if (actor.superuser) return;
    if (nodeIds.length > 0 && nodeIds.every((id) => auth.can(actor, 'enc.read', id))) return;
    if (nodeIds.some((id) => auth.can(actor, 'tree.read', id))) throw new ForbiddenError('enc.read', hostname);
    throw new NotFoundError('machine', hostname);
  }

  // Only a superuser learns why a host has no answer; anyone else gets the same 404 for every miss.
  function lookup<T>(actor: Actor, hostname: string, find: () => T): T {
    try {
      return find();
    } catch (err) {
      if (err instanceof NotFoundError && !actor.superuser) throw new NotFoundError('machine', hostname);
      throw err;
    }
  }

  return async (app) => {
    app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => done(null, body));

    app.get('/puppet/classes', { schema: { tags, response: { 200: CatalogStatusView } } }, async (req) => {
      actorOf(req);
      return enc.catalog.status();
    });

    app.put('/puppet/classes', { schema: { tags, description: 'Upload the classes file: text/plain (one class per line) or a JSON array of names or {name, parameters}', response: { 200: CatalogStatusView } } }, async (req) => {
      const actor = actorOf(req);
      auth.requireSuperuser(actor, 'replace the classes catalog');
      const body = req.body;
      if (typeof body === 'string') return enc.catalog.upload(actor, body, String(req.headers['content-type'] ?? ''));
      const list = Array.isArray(body) ? body : (body as { classes?: unknown } | null)?.classes;
      if (!Array.isArray(list)) throw new ValidationError('expected text/plain, a JSON array, or {"classes": [...]}', [{ path: ['body'], message: 'not a catalog' }]);
      return enc.catalog.upload(actor, JSON.stringify(list), 'application/json');
    });

    app.post('/puppet/classes/refresh', { schema: { tags, response: { 200: CatalogStatusView } } }, async (req) => {
      const actor = actorOf(req);
      mayRefresh(actor);
      return enc.catalog.refresh(actor);
    });

    app.get('/puppet/defaults', { schema: { tags, response: { 200: DefaultsView } } }, async (req) => {
      actorOf(req);
      return enc.defaults();
    });

    app.put('/puppet/defaults', { schema: { tags, body: encDefaultsSchema, response: { 200: DefaultsView } } }, async (req) => {
      const actor = actorOf(req);
      auth.requireSuperuser(actor, 'change the default Puppet classes');
      return enc.setDefaults(actor, req.body);
    });

    app.get('/nodes/:path/puppet', { schema: { tags, params: PathParams, response: { 200: NodePuppetView } } }, async (req, reply) => {
      auth.nodeFor(actorOf(req), 'enc.read', req.params.path);
      return withEtag(reply, enc.etag(req.params.path), enc.get(req.params.path));
    });

    app.put('/nodes/:path/puppet', { schema: { tags, params: PathParams, body: encAssociationInputSchema, response: { 200: NodePuppetView } } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'enc.write', req.params.path);
      const out = await enc.set(actor, req.params.path, req.body, ifMatch(req));
      return withEtag(reply, enc.etag(out.nodePath), out);
    });

    app.delete('/nodes/:path/puppet', { schema: { tags, params: PathParams } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'enc.write', req.params.path);
      await enc.remove(actor, req.params.path, ifMatch(req));
      return reply.status(204).send();
    });

    app.get('/enc/:hostname', { schema: { tags, params: EncParams, querystring: EncQueryString, description: 'The Puppet ENC answer: YAML by default, JSON with ?format=json or Accept: application/json, an explanation with ?explain=1' } }, async (req, reply) => {
      const actor = actorOf(req);
      const accept = String(req.headers.accept ?? '');
      const json = req.query.format === 'json' || (req.query.format === undefined && accept.includes('application/json') && !accept.includes('yaml'));
      if (!json && !req.query.explain) {
        const { yaml, nodeIds } = lookup(actor, req.params.hostname, () => enc.yaml(req.params.hostname));
        authorizeAnswer(actor, req.params.hostname, nodeIds);
        return reply.type('text/yaml; charset=utf-8').send(yaml);
      }
      const { result, nodeIds } = lookup(actor, req.params.hostname, () => enc.resolve(req.params.hostname));
      authorizeAnswer(actor, req.params.hostname, nodeIds);
      if (json) return reply.type('application/json; charset=utf-8').send(JSON.stringify(result));
      return reply.type('text/plain; charset=utf-8').send(renderExplain(result));
    });
  };
}
