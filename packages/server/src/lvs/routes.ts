/**
 * HTTP routes of LVS settings: a service node's virtual services, a director cluster's service
 * list, and (via configRoutes) each cluster's published keepalived config. Listing a service in
 * a cluster needs `lvs.read` on that service, since the config reveals its machines.
 */
import { z } from 'zod';
import type { FastifyPluginAsync } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { NodePath, NotFoundError, lvsLocalAddressGroupSchema, lvsServiceSchema } from '@canopy/core';
import type { AuthService } from '../auth/index.ts';
import { actorOf } from '../http/auth.ts';
import { PathParams } from '../http/route-helpers.ts';
import { PublishStatus, configRoutes, publishStatus, type ConfigRoutesTarget } from '../nginx/index.ts';
import type { LvsInput } from './cluster-render.ts';
import { iso, type TreeNode } from '../tree/index.ts';
import type { LvsService } from './service.ts';

const tags = ['lvs'];

/** `PUT /lvs/clusters/{path}`: the service nodes the directors balance. */
export const LvsClusterBody = z.strictObject({
  services: z.array(NodePath).max(10_000).refine((l) => new Set(l).size === l.length, 'services must be unique'),
  /** `fullnat` for Alibaba's FULLNAT keepalived fork (FNAT, syn_proxy, local-address groups). */
  flavor: z.enum(['stock', 'fullnat']).default('stock'),
  localAddressGroups: z
    .array(lvsLocalAddressGroupSchema)
    .max(64)
    .refine((l) => new Set(l.map((g) => g.name)).size === l.length, 'group names must be unique')
    .default([]),
});

const LvsSettingsView = z.looseObject({ path: z.string(), clusters: z.array(z.string()), version: z.number().int(), updatedAt: z.string() });
const LvsClusterView = z
  .looseObject({ path: z.string(), services: z.array(z.string()), flavor: z.string(), version: z.number().int(), updatedAt: z.string() })
  .extend(PublishStatus.shape);

/** Routes under /api/v1/nodes/{path}/lvs and /api/v1/lvs/clusters. */
export function lvsRoutes(lvs: LvsService, auth: AuthService, tree: { model: { get(id: number): TreeNode | undefined } }): FastifyPluginAsync[] {
  const s = lvs.settings;

  function settingsView(node: TreeNode) {
    const row = s.services.get(node.id);
    if (!row) throw new NotFoundError('LVS settings of', node.path);
    return { path: node.path, ...row.settings, clusters: s.clustersOf(node.id).map((n) => n.path).sort(), version: row.version, updatedAt: iso(row.updatedAt) };
  }

  function clusterView(node: TreeNode) {
    const row = s.clusters.get(node.id);
    if (!row) throw new NotFoundError('LVS cluster', node.path);
    const { serviceIds, ...rest } = row.settings;
    const services = serviceIds.map((id) => tree.model.get(id)?.path ?? `#${id} (deleted)`);
    const status = publishStatus(lvs.publisher.latest(node.id), lvs.publisher.lastError(node.id));
    return { path: node.path, services, ...rest, version: row.version, updatedAt: iso(row.updatedAt), ...status };
  }

  const settingsRoutes: FastifyPluginAsyncZod = async (app) => {
    app.get('/nodes/:path/lvs', { schema: { tags, params: PathParams, response: { 200: LvsSettingsView } } }, async (req) =>
      settingsView(auth.nodeFor(actorOf(req), 'lvs.read', req.params.path)),
    );

    app.put('/nodes/:path/lvs', { schema: { tags, params: PathParams, body: lvsServiceSchema, response: { 200: LvsSettingsView, 201: LvsSettingsView } } }, async (req, reply) => {
      const actor = actorOf(req);
      const node = auth.nodeFor(actor, 'lvs.write', req.params.path);
      const { created } = await s.putService(actor, node, req.body);
      return reply.status(created ? 201 : 200).send(settingsView(node));
    });

    app.delete('/nodes/:path/lvs', { schema: { tags, params: PathParams } }, async (req, reply) => {
      const actor = actorOf(req);
      await s.deleteService(actor, auth.nodeFor(actor, 'lvs.write', req.params.path));
      return reply.status(204).send();
    });

    app.get('/lvs/clusters/:path', { schema: { tags, params: PathParams, response: { 200: LvsClusterView } } }, async (req) =>
      clusterView(auth.nodeFor(actorOf(req), 'lvs.read', req.params.path)),
    );

    app.put('/lvs/clusters/:path', { schema: { tags, params: PathParams, body: LvsClusterBody, response: { 200: LvsClusterView, 201: LvsClusterView } } }, async (req, reply) => {
      const actor = actorOf(req);
      const node = auth.nodeFor(actor, 'lvs.write', req.params.path);
      const serviceIds = req.body.services.map((p) => auth.nodeFor(actor, 'lvs.read', p).id);
      const settings = { serviceIds, flavor: req.body.flavor, localAddressGroups: req.body.localAddressGroups };
      const { created } = await s.putCluster(actor, node, settings, lvs.validate);
      return reply.status(created ? 201 : 200).send(clusterView(node));
    });
  };

  const target: ConfigRoutesTarget<LvsInput> = {
    kind: 'lvs',
    draft: (node) => s.draft(node),
    restore: (actor, node, w, input) => s.restore(actor, auth, node, w, input),
    publisher: lvs.publisher,
  };
  return [settingsRoutes, configRoutes(target, auth)] as FastifyPluginAsync[];
}
