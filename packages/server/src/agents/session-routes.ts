/** The agent session's endpoint: GET /api/v1/agent/session, upgraded to a WebSocket. */
import { createHash } from 'node:crypto';
import websocket from '@fastify/websocket';
import type { FastifyPluginAsync } from 'fastify';
import { ForbiddenError } from '@canopy/core';
import { actorOf } from '../http/auth.ts';
import type { Dispatcher } from './dispatcher.ts';

/** Routes of the agent session (machine credentials only). */
export function sessionRoutes(dispatcher: Dispatcher): FastifyPluginAsync {
  return async (app) => {
    // Closing the server waits for every socket, upgraded ones too: end the sessions first, at once
    // (an agent behind a cut link would otherwise hold the close for ws's 30 s close handshake).
    await app.register(websocket, { options: { maxPayload: 64 * 1024 * 1024 }, preClose: async () => dispatcher.closeSessions() });
    // An upgrade refused by an earlier hook (a bad token fails authentication before the plugin's
    // own hooks run) is answered on a socket no HTTP parser owns any more: nothing would close it,
    // and the server's close would wait for it forever.
    app.addHook('onResponse', async (req) => {
      if (req.headers.upgrade?.toLowerCase() === 'websocket') req.raw.socket?.destroy();
    });
    app.get('/agent/session', {
      websocket: true,
      schema: { hide: true },
      // Refuse before the upgrade: a user's token, or none, gets a plain 401/403 answer.
      preValidation: async (req) => {
        const actor = actorOf(req);
        if (actor.kind !== 'agent' || actor.machineId === undefined) throw new ForbiddenError('the agent session takes a machine credential (cnm_…)', 'agent/session');
      },
    }, (socket, req) => {
      const actor = actorOf(req);
      const bearer = req.headers.authorization?.slice(7).trim() ?? '';
      dispatcher.attach(socket, actor.machineId as number, createHash('sha256').update(bearer).digest('hex'));
    });
  };
}
