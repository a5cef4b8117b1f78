/** GET /api/v1/agents?under=: the agent of each machine of a subtree, as the control center sees it. */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { NodePath, NotFoundError, type MachineAgentView } from '@canopy/core';
import type { AuthService } from '../auth/index.ts';
import type { MachineService } from '../machines/index.ts';
import { actorOf } from '../http/auth.ts';
import type { Dispatcher } from './dispatcher.ts';

export const AgentView = z.object({
  hostname: z.string(),
  state: z.enum(['connected', 'unreachable', 'disconnected', 'never enrolled']),
  agentVersion: z.string().nullable(),
  connectedAt: z.string().nullable(),
  lastHeartbeatAt: z.string().nullable(),
  facts: z.unknown(),
});

const iso = (t: string | Date | null) => (t === null ? null : new Date(t).toISOString());

/** The agent block of each of `machineIds` for machine views; a machine no agent ever reached is "never". */
export async function agentBlocks(dispatcher: Pick<Dispatcher, 'statuses'>, machineIds: number[]): Promise<Map<number, MachineAgentView>> {
  const byId = new Map((machineIds.length === 0 ? [] : await dispatcher.statuses(machineIds)).map((s) => [s.machineId, s]));
  return new Map(
    machineIds.map((id): [number, MachineAgentView] => {
      const s = byId.get(id);
      if (!s) return [id, { state: 'never', lastHeartbeatAt: null, connectedAt: null, version: null, facts: null }];
      return [id, {
        state: s.state === 'connected' ? 'connected' : 'unreachable',
        lastHeartbeatAt: iso(s.lastHeartbeatAt),
        connectedAt: iso(s.connectedAt),
        version: s.agentVersion || null,
        facts: s.facts && typeof s.facts === 'object' ? (s.facts as Record<string, unknown>) : null,
      }];
    }),
  );
}

/** Routes listing agents. */
export function agentStatusRoutes(dispatcher: Dispatcher, machines: MachineService, auth: AuthService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/agents', {
      schema: { tags: ['agents'], querystring: z.strictObject({ under: NodePath.optional(), limit: z.coerce.number().int().min(1).max(10_000).default(1000) }), response: { 200: z.object({ items: z.array(AgentView), total: z.number().int() }) } },
    }, async (req) => {
      const actor = actorOf(req);
      let under: number | undefined;
      if (req.query.under) under = auth.nodeFor(actor, 'machine.read', req.query.under).id;
      else if (!actor.superuser) throw new NotFoundError('node', '(all)');
      const { ids, total } = machines.model.query({ under }, req.query.limit, undefined);
      const byId = new Map((await dispatcher.statuses(ids)).map((s) => [s.machineId, s]));
      return {
        total,
        items: ids.map((id) => {
          const s = byId.get(id);
          return {
            hostname: machines.model.get(id)?.hostname ?? String(id),
            state: (s?.state ?? 'never enrolled') as z.infer<typeof AgentView>['state'],
            agentVersion: s?.agentVersion ?? null,
            connectedAt: iso(s?.connectedAt ?? null),
            lastHeartbeatAt: iso(s?.lastHeartbeatAt ?? null),
            facts: s?.facts ?? null,
          };
        }),
      };
    });
  };
}
