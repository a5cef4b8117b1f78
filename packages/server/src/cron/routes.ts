/**
 * HTTP routes of cron: GET /nodes/{path}/cron, PUT|DELETE /nodes/{path}/cron/{name},
 * GET /nodes/{path}/cron/{name}/runs[/{id}]. Reading needs `cron.read`; changing `cron.write`, and
 * an entry that runs as root also `machine.root` (as another user `machine.exec`): it runs on
 * every machine below the node.
 */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CronEntryInput, CronName, CronRunPage, CronRunView, CronTableView, Hostname, NodePath } from '@canopy/core';
import type { AuthService } from '../auth/index.ts';
import { actorOf } from '../http/auth.ts';
import type { CronService } from './service.ts';

const tags = ['cron'];
const PathParams = z.strictObject({ path: NodePath });
const EntryParams = z.strictObject({ path: NodePath, name: CronName });
const RunParams = z.strictObject({ path: NodePath, name: CronName, id: z.uuid() });
const RunsQuery = z.strictObject({
  hostname: Hostname.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

/** The cron routes over `cron`, authorized by `auth`. */
export function cronRoutes(cron: CronService, auth: AuthService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/nodes/:path/cron', { schema: { tags, params: PathParams, response: { 200: CronTableView } } }, async (req) => {
      auth.nodeFor(actorOf(req), 'cron.read', req.params.path);
      return cron.table(req.params.path);
    });
    app.put('/nodes/:path/cron/:name', { schema: { tags, params: EntryParams, body: CronEntryInput, response: { 200: CronTableView } } }, async (req) => {
      const actor = actorOf(req);
      const node = auth.nodeFor(actor, 'cron.write', req.params.path);
      const user = cron.userOf(req.body);
      if (user !== null) auth.authorize(actor, user === 'root' ? 'machine.root' : 'machine.exec', node);
      return cron.set(actor, req.params.path, req.params.name, req.body);
    });
    app.delete('/nodes/:path/cron/:name', { schema: { tags, params: EntryParams } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'cron.write', req.params.path);
      await cron.remove(actor, req.params.path, req.params.name);
      return reply.status(204).send();
    });
    app.get('/nodes/:path/cron/:name/runs', { schema: { tags, params: EntryParams, querystring: RunsQuery, response: { 200: CronRunPage } } }, async (req) => {
      auth.nodeFor(actorOf(req), 'cron.read', req.params.path);
      return cron.runs(req.params.path, req.params.name, req.query);
    });
    app.get('/nodes/:path/cron/:name/runs/:id', { schema: { tags, params: RunParams, response: { 200: CronRunView } } }, async (req) => {
      auth.nodeFor(actorOf(req), 'cron.read', req.params.path);
      return cron.run(req.params.path, req.params.name, req.params.id);
    });
  };
}
