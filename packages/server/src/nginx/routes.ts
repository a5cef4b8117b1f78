/**
 * HTTP routes of nginx settings: domains, per-service settings, clusters, and (via configRoutes)
 * each cluster's published config. Parse, authorize, call the service.
 *
 * Domains are global (a name has one meaning everywhere), so writing one needs either superuser or
 * `nginx.write` on every cluster node that already serves it: the people running those nginx
 * clusters own its ports and certificate. A domain no cluster serves yet is created (and an unused
 * one deleted) by a superuser. Reading domains needs only a login: names and ports are not secret.
 */
import { z } from 'zod';
import type { FastifyPluginAsync } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ForbiddenError, NotFoundError, ValidationError, nginxDomainSchema, nginxServiceSchema, type NginxDomainSettings } from '@canopy/core';
import type { Actor } from '../changes/index.ts';
import type { AuthService } from '../auth/index.ts';
import { actorOf } from '../http/auth.ts';
import { PathParams } from '../http/route-helpers.ts';
import { iso, type TreeNode } from '../tree/index.ts';
import { AnyObject, configRoutes } from './config-routes.ts';
import type { SettingsRow } from './repo.ts';
import { DomainParams, NginxClusterBody, PublishStatus } from './schema.ts';
import type { NginxService } from './service.ts';
import { publishStatus } from './views.ts';

const tags = ['nginx'];

const DomainView = z.looseObject({ domain: z.string(), clusters: z.array(z.string()), version: z.number().int(), updatedAt: z.string() });
const ServiceSettingsView = z.looseObject({ path: z.string(), effectiveUpstream: z.string(), version: z.number().int(), updatedAt: z.string() });
const ClusterView = z.looseObject({ path: z.string(), domains: z.array(z.string()), version: z.number().int(), updatedAt: z.string() }).extend(PublishStatus.shape);

/** Parse `value` with `schema`, turning zod issues into a ValidationError (400). */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, where = 'body'): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: [where, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], message: i.message }));
  throw new ValidationError(`invalid ${where}: ${issues.map((i) => `${i.path.slice(1).join('.') || where} ${i.message}`).join('; ')}`, issues);
}

/** Routes under /api/v1/domains, /api/v1/nodes/{path}/nginx and /api/v1/nginx/clusters. */
export function nginxRoutes(nginx: NginxService, auth: AuthService): FastifyPluginAsync[] {
  const s = nginx.settings;

  function domainView(row: SettingsRow<string, NginxDomainSettings>) {
    return { ...row.settings, clusters: s.clustersServing(row.key).map((n) => n.path).sort(), version: row.version, updatedAt: iso(row.updatedAt) };
  }

  function mayWriteDomain(actor: Actor, domain: string): void {
    if (actor.superuser) return;
    const serving = s.clustersServing(domain);
    if (serving.length === 0 || !serving.every((n) => auth.can(actor, 'nginx.write', n.id))) {
      throw new ForbiddenError('nginx.write on every cluster serving the domain (or superuser)', domain);
    }
  }

  function serviceView(node: TreeNode) {
    const row = s.services.get(node.id);
    if (!row) throw new NotFoundError('nginx settings of', node.path);
    return { path: node.path, ...row.settings, effectiveUpstream: s.upstreamOf(node.id, row.settings) ?? '', version: row.version, updatedAt: iso(row.updatedAt) };
  }

  function clusterView(node: TreeNode) {
    const row = s.clusters.get(node.id);
    if (!row) throw new NotFoundError('nginx cluster', node.path);
    const status = publishStatus(nginx.publisher.latest(node.id), nginx.publisher.lastError(node.id));
    return { path: node.path, ...row.settings, version: row.version, updatedAt: iso(row.updatedAt), ...status };
  }

  const settingsRoutes: FastifyPluginAsyncZod = async (app) => {
    app.get('/domains', { schema: { tags, response: { 200: z.object({ items: z.array(DomainView) }) } } }, async (req) => {
      actorOf(req);
      return { items: [...s.domains.all()].sort((a, b) => (a.key < b.key ? -1 : 1)).map(domainView) };
    });

    app.get('/domains/:domain', { schema: { tags, params: DomainParams, response: { 200: DomainView } } }, async (req) => {
      actorOf(req);
      const row = s.domains.get(req.params.domain);
      if (!row) throw new NotFoundError('domain', req.params.domain);
      return domainView(row);
    });

    app.put('/domains/:domain', { schema: { tags, params: DomainParams, body: AnyObject, response: { 200: DomainView, 201: DomainView } } }, async (req, reply) => {
      const actor = actorOf(req);
      const { domain } = req.params;
      if (req.body['domain'] !== undefined && req.body['domain'] !== domain) {
        throw new ValidationError('the body names another domain than the URL', [{ path: ['body', 'domain'], message: `must be '${domain}' or absent` }]);
      }
      const settings = parseWith(nginxDomainSchema, { ...req.body, domain });
      mayWriteDomain(actor, domain);
      const { row, created } = await s.putDomain(actor, settings);
      return reply.status(created ? 201 : 200).send(domainView(row));
    });

    app.delete('/domains/:domain', { schema: { tags, params: DomainParams } }, async (req, reply) => {
      const actor = actorOf(req);
      mayWriteDomain(actor, req.params.domain);
      await s.deleteDomain(actor, req.params.domain);
      return reply.status(204).send();
    });

    app.get('/nodes/:path/nginx', { schema: { tags, params: PathParams, response: { 200: ServiceSettingsView } } }, async (req) =>
      serviceView(auth.nodeFor(actorOf(req), 'nginx.read', req.params.path)),
    );

    app.put('/nodes/:path/nginx', { schema: { tags, params: PathParams, body: nginxServiceSchema, response: { 200: ServiceSettingsView, 201: ServiceSettingsView } } }, async (req, reply) => {
      const actor = actorOf(req);
      const node = auth.nodeFor(actor, 'nginx.write', req.params.path);
      const { created } = await s.putService(actor, node, req.body);
      return reply.status(created ? 201 : 200).send(serviceView(node));
    });

    app.delete('/nodes/:path/nginx', { schema: { tags, params: PathParams } }, async (req, reply) => {
      const actor = actorOf(req);
      await s.deleteService(actor, auth.nodeFor(actor, 'nginx.write', req.params.path));
      return reply.status(204).send();
    });

    app.get('/nginx/clusters/:path', { schema: { tags, params: PathParams, response: { 200: ClusterView } } }, async (req) =>
      clusterView(auth.nodeFor(actorOf(req), 'nginx.read', req.params.path)),
    );

    app.put('/nginx/clusters/:path', { schema: { tags, params: PathParams, body: NginxClusterBody, response: { 200: ClusterView, 201: ClusterView } } }, async (req, reply) => {
      const actor = actorOf(req);
      const node = auth.nodeFor(actor, 'nginx.write', req.params.path);
      const { created } = await s.putCluster(actor, node, req.body);
      return reply.status(created ? 201 : 200).send(clusterView(node));
    });
  };

  const target = { kind: 'nginx' as const, draft: (node: TreeNode) => s.draft(node), publisher: nginx.publisher };
  return [settingsRoutes, configRoutes(target, auth)] as FastifyPluginAsync[];
}
