/**
 * HTTP routes of nginx settings: per-service settings, clusters, domains (domain-routes.ts) and
 * (via configRoutes) each cluster's published config. Parse, authorize, call the service.
 * Attaching a domain URI to a service also needs the domain's owner or a delegation (domain-access.ts).
 */
import { z } from 'zod';
import type { FastifyPluginAsync } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { NotFoundError, nginxServiceSchema } from '@canopy/core';
import type { AuthService } from '../auth/index.ts';
import { actorOf } from '../http/auth.ts';
import { PathParams } from '../http/route-helpers.ts';
import { iso, type TreeNode } from '../tree/index.ts';
import type { NginxInput } from './cluster-render.ts';
import { configRoutes, type ConfigRoutesTarget } from './config-routes.ts';
import { planOrigins } from './plan-view.ts';
import { restoreNginxSettings } from './restore.ts';
import { domainRoutes } from './domain-routes.ts';
import { NginxClusterBody, PublishStatus } from './schema.ts';
import type { NginxService } from './service.ts';
import { publishStatus } from './views.ts';

export { parseWith } from './parse.ts';

const tags = ['nginx'];

const ServiceSettingsView = z.looseObject({ path: z.string(), effectiveUpstream: z.string(), version: z.number().int(), updatedAt: z.string() });
const ClusterView = z.looseObject({ path: z.string(), domains: z.array(z.string()), version: z.number().int(), updatedAt: z.string() }).extend(PublishStatus.shape);

/** Routes under /api/v1/domains, /api/v1/nodes/{path}/nginx and /api/v1/nginx/clusters. */
export function nginxRoutes(nginx: NginxService, auth: AuthService): FastifyPluginAsync[] {
  const s = nginx.settings;

  function serviceView(node: TreeNode) {
    const row = s.services.get(node.id);
    if (!row) throw new NotFoundError('nginx settings of', node.path);
    return { path: node.path, ...row.settings, effectiveUpstream: s.upstreamOf(node.id, row.settings) ?? '', version: row.version, updatedAt: iso(row.updatedAt), updatedBy: row.updatedBy };
  }

  function clusterView(node: TreeNode) {
    const row = s.clusters.get(node.id);
    if (!row) throw new NotFoundError('nginx cluster', node.path);
    const status = publishStatus(nginx.publisher.latest(node.id), nginx.publisher.lastError(node.id));
    return { path: node.path, ...row.settings, version: row.version, updatedAt: iso(row.updatedAt), updatedBy: row.updatedBy, ...status };
  }

  const settingsRoutes: FastifyPluginAsyncZod = async (app) => {
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

  const target: ConfigRoutesTarget<NginxInput> = {
    kind: 'nginx',
    draft: (node) => s.draft(node),
    restore: (actor, node, w, input) => restoreNginxSettings(s, auth, actor, node, w, input),
    origins: (node, draft) => planOrigins(nginx, node, draft),
    publisher: nginx.publisher,
  };
  return [settingsRoutes, domainRoutes(s, auth), configRoutes(target, auth)] as FastifyPluginAsync[];
}
