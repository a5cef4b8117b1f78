/** HTTP routes of the install system under /api/v1/provisioning. */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { pageOf } from '@canopy/core';
import type { Actor } from '../changes/index.ts';
import type { AuthService } from '../auth/index.ts';
import type { TreeService } from '../tree/index.ts';
import { actorOf } from '../http/auth.ts';
import { CreateProvisioningInput, ListProvisioningQuery, ProvisioningView } from './schema.ts';
import type { ProvisioningService } from './service.ts';

const tags = ['provisioning'];
const IdParams = z.strictObject({ id: z.coerce.number().int().positive() });

/** Install requests: create (machine.write on the node), list, read, cancel. */
export function provisioningRoutes(provisioning: ProvisioningService, auth: AuthService, tree: TreeService): FastifyPluginAsyncZod {
  // A request is visible through its node; one whose node is gone only to superusers.
  async function authorizeRequest(actor: Actor, op: 'machine.read' | 'machine.write', id: number): Promise<void> {
    const row = await provisioning.row(id);
    const path = provisioning.view(row).nodePath;
    if (path === null) auth.requireSuperuser(actor, `${op} on install request #${id}`);
    else auth.nodeFor(actor, op, path);
  }

  return async (app) => {
    app.post('/provisioning', { schema: { tags, body: CreateProvisioningInput, response: { 201: ProvisioningView } } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'machine.write', req.body.nodePath);
      const out = await provisioning.create(actor, req.body);
      return reply.status(201).header('location', `/api/v1/provisioning/${out.id}`).send(out);
    });

    app.get('/provisioning', { schema: { tags, querystring: ListProvisioningQuery, response: { 200: pageOf(ProvisioningView) } } }, async (req) => {
      const actor = actorOf(req);
      const { under, limit, cursor, ...filter } = req.query;
      let nodeIds: number[] | undefined;
      if (under) nodeIds = tree.model.subtreeIds(auth.nodeFor(actor, 'machine.read', under).id);
      else auth.requireSuperuser(actor, 'list install requests without ?under=');
      return provisioning.list({ ...filter, nodeIds }, limit, cursor);
    });

    app.get('/provisioning/:id', { schema: { tags, params: IdParams, response: { 200: ProvisioningView } } }, async (req) => {
      await authorizeRequest(actorOf(req), 'machine.read', req.params.id);
      return provisioning.get(req.params.id);
    });

    app.delete('/provisioning/:id', { schema: { tags, params: IdParams, response: { 200: ProvisioningView } } }, async (req) => {
      const actor = actorOf(req);
      await authorizeRequest(actor, 'machine.write', req.params.id);
      return provisioning.cancel(actor, req.params.id);
    });
  };
}
