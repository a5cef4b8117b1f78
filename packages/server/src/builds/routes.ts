/** HTTP routes of builds: /api/v1/builds… and /api/v1/nodes/{path}/build-settings. */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { BuildSettingsInput, BuildSettingsView, BuildView, CreateBuildInput, NodePath, NotFoundError } from '@canopy/core';
import type { Actor } from '../changes/index.ts';
import type { AuthService } from '../auth/index.ts';
import type { TreeService } from '../tree/index.ts';
import { actorOf } from '../http/auth.ts';
import type { BuildService } from './service.ts';
import type { BuildSettings } from './settings.ts';
import { uploadRoute } from './upload-route.ts';
import type { ArtifactSink } from './artifact-port.ts';
import { logRoute } from './log-route.ts';

const tags = ['builds'];
const IdParams = z.strictObject({ id: z.coerce.number().int().positive().max(2 ** 31 - 1) });
const PathParams = z.strictObject({ path: NodePath });
const ListQuery = z.strictObject({ under: NodePath.optional(), limit: z.coerce.number().int().min(1).max(200).default(50), before: z.coerce.number().int().positive().optional() });

export interface BuildRouteDeps {
  builds: BuildService;
  settings: BuildSettings;
  auth: AuthService;
  tree: TreeService;
  artifacts: ArtifactSink;
}

/** Builds are read with `deploy.read` on their node and run or cancelled with `deploy.run`. */
export function buildRoutes(deps: BuildRouteDeps): FastifyPluginAsyncZod {
  const { builds, settings, auth } = deps;
  async function authorize(actor: Actor, id: number, op: 'deploy.read' | 'deploy.run'): Promise<void> {
    auth.nodeFor(actor, op, await builds.nodePathOf(id));
  }

  return async (app) => {
    app.post('/builds', { schema: { tags, body: CreateBuildInput, response: { 201: BuildView } } }, async (req, reply) => {
      return reply.status(201).send(await builds.create(actorOf(req), req.body));
    });
    app.get('/builds', { schema: { tags, querystring: ListQuery, response: { 200: z.object({ items: z.array(BuildView), nextCursor: z.string().nullable() }) } } }, async (req) => {
      const actor = actorOf(req);
      const under = req.query.under ? auth.nodeFor(actor, 'deploy.read', req.query.under) : undefined;
      if (!under && !actor.superuser) throw new NotFoundError('node', '(all)');
      const items = await builds.list({ underId: under?.id, limit: req.query.limit, before: req.query.before });
      return { items, nextCursor: items.length === req.query.limit ? String(items.at(-1)!.id) : null };
    });
    app.get('/builds/:id', { schema: { tags, params: IdParams, response: { 200: BuildView } } }, async (req) => {
      await authorize(actorOf(req), req.params.id, 'deploy.read');
      return builds.detail(req.params.id);
    });
    app.post('/builds/:id/cancel', { schema: { tags, params: IdParams, response: { 200: BuildView } } }, async (req) => {
      const actor = actorOf(req);
      await authorize(actor, req.params.id, 'deploy.run');
      return builds.cancel(actor, req.params.id);
    });
    app.get('/nodes/:path/build-settings', { schema: { tags, params: PathParams, response: { 200: BuildSettingsView } } }, async (req) => {
      const node = auth.nodeFor(actorOf(req), 'tree.read', req.params.path);
      return settings.view(node.id);
    });
    app.put('/nodes/:path/build-settings', { schema: { tags, params: PathParams, body: BuildSettingsInput, response: { 200: BuildSettingsView } } }, async (req) => {
      return settings.put(actorOf(req), req.params.path, req.body);
    });
    await app.register(logRoute(builds, (actor, id) => authorize(actor, id, 'deploy.read')));
    await app.register(uploadRoute(builds, deps.artifacts));
  };
}
