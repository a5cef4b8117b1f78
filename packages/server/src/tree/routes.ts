/** HTTP routes of the service tree: parse, authorize, call the service, answer. */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CreateNodeInput, ListNodesQuery, MoveNodeInput, NodeView, PatchNodeInput, TrashedNodeView, ForbiddenError, NotFoundError } from '@canopy/core';
import { actorOf } from '../http/auth.ts';
import { PathParams, ifMatch, withEtag } from '../http/route-helpers.ts';
import type { AuthService } from '../auth/index.ts';
import { etagOf, iso, type TreeService } from './service.ts';

const tags = ['tree'];

/** Routes under /api/v1/nodes. */
export function treeRoutes(tree: TreeService, auth: AuthService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/nodes', { schema: { tags, querystring: ListNodesQuery, response: { 200: z.object({ items: z.array(NodeView) }) } } }, async (req) => {
      const actor = actorOf(req);
      if (req.query.under) auth.nodeFor(actor, 'tree.read', req.query.under);
      return { items: tree.list({ ...req.query, visible: (n) => auth.visible(actor, n) }) };
    });

    app.post('/nodes', { schema: { tags, body: CreateNodeInput, response: { 201: NodeView } } }, async (req, reply) => {
      const actor = actorOf(req);
      if (req.body.parentPath === null) auth.requireSuperuser(actor, 'create a root node');
      else auth.nodeFor(actor, 'tree.write', req.body.parentPath);
      const node = await tree.create(actor, req.body);
      return reply.status(201).header('etag', etagOf(node)).header('location', `/api/v1/nodes/${node.path}`).send(node);
    });

    app.get('/nodes/:path', { schema: { tags, params: PathParams, response: { 200: NodeView } } }, async (req, reply) => {
      const node = auth.nodeFor(actorOf(req), 'tree.read', req.params.path);
      return withEtag(reply, etagOf(node), tree.view(node));
    });

    app.patch('/nodes/:path', { schema: { tags, params: PathParams, body: PatchNodeInput, response: { 200: NodeView } } }, async (req, reply) => {
      const actor = actorOf(req);
      const node = auth.nodeFor(actor, 'tree.write', req.params.path);
      // Renaming re-paths the subtree, which changes the parent's namespace: it needs tree.write there too.
      if (req.body.name !== undefined && node.parentId !== null) auth.authorize(actor, 'tree.write', tree.model.get(node.parentId) ?? node);
      if (req.body.name !== undefined && node.parentId === null) auth.requireSuperuser(actor, 'rename a root node');
      const out = await tree.patch(actor, req.params.path, req.body, ifMatch(req));
      return withEtag(reply, etagOf(out), out);
    });

    app.delete('/nodes/:path', { schema: { tags, params: PathParams } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'tree.write', req.params.path);
      await tree.remove(actor, req.params.path, ifMatch(req));
      return reply.status(204).send();
    });

    app.post('/nodes/:path/move', { schema: { tags, params: PathParams, body: MoveNodeInput, response: { 200: NodeView } } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'tree.write', req.params.path);
      if (req.body.parentPath === null) auth.requireSuperuser(actor, 'move a node to the top level');
      else {
        const target = tree.model.byPath(req.body.parentPath);
        if (!target) throw new NotFoundError('node', req.body.parentPath);
        auth.authorize(actor, 'tree.write', target);
      }
      const out = await tree.move(actor, req.params.path, req.body.parentPath, ifMatch(req));
      return withEtag(reply, etagOf(out), out);
    });

    app.get('/trash', { schema: { tags, response: { 200: z.object({ items: z.array(TrashedNodeView) }) } } }, async (req) => {
      auth.requireSuperuser(actorOf(req), 'read the trash');
      const items = await tree.trash();
      return { items: items.map((t) => ({ id: t.id, path: t.path, restoresAs: tree.restorePathOf(t), deletedAt: iso(t.deletedAt ?? '') })) };
    });

    app.post('/trash/:id/restore', { schema: { tags, params: z.strictObject({ id: z.coerce.number().int().positive() }), response: { 200: NodeView } } }, async (req) => {
      const actor = actorOf(req);
      if (!actor.superuser) throw new ForbiddenError('restore from the trash', 'canopy');
      return tree.restore(actor, req.params.id);
    });
  };
}
