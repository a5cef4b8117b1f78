/** HTTP routes for machine credentials, under /api/v1/machines/{hostname}/credentials. */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CredentialView, ForbiddenError, Hostname, IssueCredentialInput, IssuedCredentialView, NotFoundError } from '@canopy/core';
import type { Actor } from '../changes/index.ts';
import type { AuthService } from '../auth/index.ts';
import type { MachineService } from '../machines/index.ts';
import { actorOf } from '../http/auth.ts';
import type { AgentService } from './service.ts';

const tags = ['agents'];
const HostParams = z.strictObject({ hostname: Hostname });
const CredentialParams = z.strictObject({ hostname: Hostname, id: z.coerce.number().int().positive() });

/** Routes for issuing, listing and revoking the credentials an agent authenticates with. */
export function agentRoutes(agents: AgentService, machines: MachineService, auth: AuthService): FastifyPluginAsyncZod {
  /**
   * A credential acts for the whole machine, in every node it runs in: managing one needs `op` on
   * each of them (a machine bound nowhere, a superuser). Seeing none of them hides the machine.
   */
  async function authorize(actor: Actor, op: 'machine.read' | 'machine.write', hostname: string): Promise<void> {
    if (actor.superuser) return;
    const nodes = await machines.nodesOf(hostname);
    const lacking = nodes.find((n) => !auth.can(actor, op, n.id));
    if (nodes.length > 0 && !lacking) return;
    if (nodes.some((n) => auth.can(actor, 'machine.read', n.id))) throw new ForbiddenError(op, lacking ? `${hostname} (in ${lacking.path})` : hostname);
    throw new NotFoundError('machine', hostname);
  }

  return async (app) => {
    app.post('/machines/:hostname/credentials', { schema: { tags, params: HostParams, body: IssueCredentialInput, response: { 201: IssuedCredentialView } } }, async (req, reply) => {
      const actor = actorOf(req);
      await authorize(actor, 'machine.write', req.params.hostname);
      return reply.status(201).send(await agents.issue(actor, req.params.hostname, req.body.name));
    });

    app.get('/machines/:hostname/credentials', { schema: { tags, params: HostParams, response: { 200: z.object({ items: z.array(CredentialView) }) } } }, async (req) => {
      await authorize(actorOf(req), 'machine.read', req.params.hostname);
      return { items: await agents.list(req.params.hostname) };
    });

    app.delete('/machines/:hostname/credentials/:id', { schema: { tags, params: CredentialParams } }, async (req, reply) => {
      const actor = actorOf(req);
      await authorize(actor, 'machine.write', req.params.hostname);
      await agents.revoke(actor, req.params.hostname, req.params.id);
      return reply.status(204).send();
    });
  };
}
