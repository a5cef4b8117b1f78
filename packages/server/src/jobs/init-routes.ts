/** HTTP routes of a node's init command: GET|PUT|DELETE /api/v1/nodes/{path}/init-command. */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { InitCommandInput, InitCommandView, NodePath } from '@canopy/core';
import type { AuthService } from '../auth/index.ts';
import { actorOf } from '../http/auth.ts';
import type { InitCommands } from './init-commands.ts';

const tags = ['jobs'];
const PathParams = z.strictObject({ path: NodePath });

/** Reading needs `machine.read` on the node; setting or removing it `machine.root` (it runs as root on every machine below). */
export function initCommandRoutes(commands: InitCommands, auth: AuthService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/nodes/:path/init-command', { schema: { tags, params: PathParams, response: { 200: InitCommandView } } }, async (req) => {
      auth.nodeFor(actorOf(req), 'machine.read', req.params.path);
      return commands.get(req.params.path);
    });
    app.put('/nodes/:path/init-command', { schema: { tags, params: PathParams, body: InitCommandInput, response: { 200: InitCommandView } } }, async (req) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'machine.root', req.params.path);
      return commands.set(actor, req.params.path, req.body);
    });
    app.delete('/nodes/:path/init-command', { schema: { tags, params: PathParams } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'machine.root', req.params.path);
      await commands.remove(actor, req.params.path);
      return reply.status(204).send();
    });
  };
}
