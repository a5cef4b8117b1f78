/** HTTP routes for machine credentials, under /api/v1/machines/{hostname}/credentials. */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CredentialView, Hostname, IssueCredentialInput, IssuedCredentialView } from '@canopy/core';
import type { Actor } from '../changes/index.ts';
import type { AuthService } from '../auth/index.ts';
import { createMachineAuthz, type MachineService } from '../machines/index.ts';
import { actorOf } from '../http/auth.ts';
import type { AgentService } from './service.ts';

const tags = ['agents'];
const HostParams = z.strictObject({ hostname: Hostname });
const CredentialParams = z.strictObject({ hostname: Hostname, id: z.coerce.number().int().positive() });

/** Routes for issuing, listing and revoking the credentials an agent authenticates with. */
export function agentRoutes(agents: AgentService, machines: MachineService, auth: AuthService): FastifyPluginAsyncZod {
  // A credential acts for the whole machine, in every node it runs in: managing one is changing the machine.
  const authz = createMachineAuthz(auth);
  async function authorize(actor: Actor, op: 'read' | 'change', hostname: string): Promise<void> {
    const nodes = await machines.nodesOf(hostname);
    if (op === 'read') authz.read(actor, hostname, nodes);
    else authz.change(actor)(hostname, nodes);
  }

  return async (app) => {
    app.post('/machines/:hostname/credentials', { schema: { tags, params: HostParams, body: IssueCredentialInput, response: { 201: IssuedCredentialView } } }, async (req, reply) => {
      const actor = actorOf(req);
      await authorize(actor, 'change', req.params.hostname);
      return reply.status(201).send(await agents.issue(actor, req.params.hostname, req.body.name));
    });

    app.get('/machines/:hostname/credentials', { schema: { tags, params: HostParams, response: { 200: z.object({ items: z.array(CredentialView) }) } } }, async (req) => {
      await authorize(actorOf(req), 'read', req.params.hostname);
      return { items: await agents.list(req.params.hostname) };
    });

    app.delete('/machines/:hostname/credentials/:id', { schema: { tags, params: CredentialParams } }, async (req, reply) => {
      const actor = actorOf(req);
      await authorize(actor, 'change', req.params.hostname);
      await agents.revoke(actor, req.params.hostname, req.params.id);
      return reply.status(204).send();
    });
  };
}
