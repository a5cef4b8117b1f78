/**
 * HTTP routes of the service tree: parse, authorize, call the service, answer. What a caller sees
 * follows visibility.ts. A path that names no node now but named one before a rename or move answers
 * 404 `moved` with `movedTo` and a `location` (auth.nodeFor does the same for every other route), so
 * a bookmark or script learns the new path without anything being done at the old one.
 */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CreateNodeInput, ListNodesQuery, MoveNodeInput, NodeView, PatchNodeInput, TrashedNodeView, ForbiddenError } from '@canopy/core';
import type { Actor } from '../changes/index.ts';
import { actorOf } from '../http/auth.ts';
import { PathParams, ifMatch, withEtag } from '../http/route-helpers.ts';
import type { AuthService } from '../auth/index.ts';
import { etagOf, iso, type TreeService } from './service.ts';
import { treeLens } from './visibility.ts';

const tags = ['tree'];

/** Routes under /api/v1/nodes. */
export function treeRoutes(tree: TreeService, auth: AuthService): FastifyPluginAsyncZod {
  const lens = (actor: Actor) => treeLens(tree, auth, actor);

  return async (app) => {
    // Under a path-only step the answer holds the children that are visible or lead to visible nodes.
    app.get('/nodes', { schema: { tags, querystring: ListNodesQuery, response: { 200: z.object({ items: z.array(NodeView) }) } } }, async (req) => {
      const l = lens(actorOf(req));
      const under = req.query.under === undefined ? undefined : l.seen(req.query.under).path;
      return { items: tree.list({ ...req.query, under, visible: l.visible, opens: l.opens }).map(l.present) };
    });

    app.post('/nodes', { schema: { tags, body: CreateNodeInput, response: { 201: NodeView } } }, async (req, reply) => {
      const actor = actorOf(req);
      if (req.body.parentPath === null) auth.requireSuperuser(actor, 'create a root node');
      else lens(actor).need('tree.write', req.body.parentPath);
      const node = lens(actor).present(await tree.create(actor, req.body));
      return reply.status(201).header('etag', etagOf(node)).header('location', `/api/v1/nodes/${node.path}`).send(node);
    });

    // A path-only step answers 200 (the console shows it as a way down); anything else unseen is 404.
    app.get('/nodes/:path', { schema: { tags, params: PathParams, response: { 200: NodeView } } }, async (req, reply) => {
      const l = lens(actorOf(req));
      const node = l.seen(req.params.path);
      const view = l.present(tree.view(node));
      return view.pathOnly ? view : withEtag(reply, etagOf(node), view);
    });

    app.patch('/nodes/:path', { schema: { tags, params: PathParams, body: PatchNodeInput, response: { 200: NodeView } } }, async (req, reply) => {
      const actor = actorOf(req);
      const node = lens(actor).need('tree.write', req.params.path);
      // Renaming re-paths the subtree, which changes the parent's namespace: it needs tree.write there
      // too. The parent's path is a prefix of the node's, so naming it in the refusal reveals nothing.
      const parent = node.parentId === null ? undefined : tree.model.get(node.parentId);
      if (req.body.name !== undefined && parent) lens(actor).needWriteOn(parent, `renaming ${node.path}`);
      if (req.body.name !== undefined && node.parentId === null) auth.requireSuperuser(actor, 'rename a root node');
      const out = lens(actor).present(await tree.patch(actor, req.params.path, req.body, ifMatch(req)));
      return withEtag(reply, etagOf(out), out);
    });

    app.delete('/nodes/:path', { schema: { tags, params: PathParams } }, async (req, reply) => {
      const actor = actorOf(req);
      lens(actor).need('tree.write', req.params.path);
      await tree.remove(actor, req.params.path, ifMatch(req));
      return reply.status(204).send();
    });

    app.post('/nodes/:path/move', { schema: { tags, params: PathParams, body: MoveNodeInput, response: { 200: NodeView } } }, async (req, reply) => {
      const actor = actorOf(req);
      const node = lens(actor).need('tree.write', req.params.path);
      if (req.body.parentPath === null) auth.requireSuperuser(actor, 'move a node to the top level');
      else lens(actor).needWriteOn(lens(actor).seen(req.body.parentPath), `moving ${node.path} under ${req.body.parentPath}`);
      const out = lens(actor).present(await tree.move(actor, req.params.path, req.body.parentPath, ifMatch(req)));
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
      return lens(actor).present(await tree.restore(actor, req.params.id));
    });
  };
}
