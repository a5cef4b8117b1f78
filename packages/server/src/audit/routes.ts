/** GET /api/v1/audit: the audit log by subtree, user, operation and time. There is no write route. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AuditEntryView, AuditQuery, pageOf, ValidationError } from '@canopy/core';
import type { AuthService } from '../auth/index.ts';
import type { Queryable } from '../db/connection.ts';
import { actorOf } from '../http/auth.ts';
import { iso, redactPaths, type TreeService } from '../tree/index.ts';
import { queryAudit } from './repo.ts';

/** Audit routes. */
export function auditRoutes(db: Queryable, tree: TreeService, auth: AuthService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/audit', { schema: { tags: ['audit'], querystring: AuditQuery, response: { 200: pageOf(AuditEntryView) } } }, async (req) => {
      const actor = actorOf(req);
      const { under, user, operation, since, until, limit, cursor } = req.query;
      let nodeIds: number[] | undefined;
      if (under) nodeIds = tree.model.subtreeIds(auth.nodeFor(actor, 'audit.read', under).id);
      else if (!actor.superuser) throw new ValidationError('name a subtree with ?under=', [{ path: ['querystring', 'under'], message: 'required unless you are a superuser' }]);
      const rows = await queryAudit(db, { nodeIds, underPath: under, actor: user, operation, since, until, before: cursor ? Number(cursor) : undefined }, limit);
      // A recorded before/after may name nodes outside what the caller sees (a shared machine's other nodes): drop them.
      const seen = (v: unknown) => (actor.superuser ? v : redactPaths(v, tree, (n) => auth.acl.visible(actor, n.id)));
      const items = rows.map((r) => ({ id: r.id, at: iso(r.at), actor: r.actor, operation: r.operation, targetKind: r.targetKind, target: r.target, nodePath: r.nodePath, before: seen(r.before), after: seen(r.after) }));
      const last = items.at(-1);
      return { items, ...(items.length === limit && last ? { nextCursor: String(last.id) } : {}) };
    });
  };
}
