/** HTTP routes for machines and their bindings. */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CreateMachineInput, Hostname, ImportReport, ListMachinesQuery, MachineView, NodePath, PatchMachineInput, ValidationError, pageOf, type MachineAgentView } from '@canopy/core';
import type { Actor, Writer } from '../changes/index.ts';
import type { AuthService } from '../auth/index.ts';
import { actorOf } from '../http/auth.ts';
import { parseJsonBody } from '../http/json.ts';
import { ifMatch, withEtag } from '../http/route-helpers.ts';
import { createMachineAuthz } from './authz.ts';
import { csvRecords, importMachines, jsonRecords } from './import.ts';
import { machineEtag, type MachineService } from './service.ts';

const tags = ['machines'];
const HostParams = z.strictObject({ hostname: Hostname });
const BindParams = z.strictObject({ path: NodePath, hostname: Hostname });

/** The agent block of machines by id (the dispatcher's status; given by the composition root, which knows it). */
export type AgentsOf = (machineIds: number[]) => Promise<Map<number, MachineAgentView>>;

/** Routes under /api/v1/machines and /api/v1/nodes/{path}/machines. */
export function machineRoutes(machines: MachineService, auth: AuthService, writer: Writer, agentsOf?: AgentsOf): FastifyPluginAsyncZod {
  // Who may do what to a shared machine is spelled out in authz.ts; every write below applies it.
  const authz = createMachineAuthz(auth);
  // A machine shared with nodes the caller cannot open names only theirs and counts the rest.
  const seenBy = (actor: Actor) => (m: MachineView): MachineView => {
    const nodes = actor.superuser ? m.nodes : m.nodes.filter((p) => {
      const n = machines.nodeByPath(p);
      return n !== undefined && auth.can(actor, 'tree.read', n.id);
    });
    return { ...m, nodes, hiddenNodeCount: m.nodes.length - nodes.length };
  };
  // Reads show each machine's agent; write answers stay as they were (the agent is not what changed).
  async function withAgents(items: MachineView[]): Promise<MachineView[]> {
    if (!agentsOf) return items;
    const blocks = await agentsOf(items.map((m) => m.id));
    return items.map((m) => {
      const agent = blocks.get(m.id);
      return agent ? { ...m, agent } : m;
    });
  }

  return async (app) => {
    app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));

    app.get('/machines', { schema: { tags, querystring: ListMachinesQuery, response: { 200: pageOf(MachineView) } } }, async (req) => {
      const actor = actorOf(req);
      const { limit, cursor, ...filter } = req.query;
      if (filter.under) auth.nodeFor(actor, 'machine.read', filter.under);
      else if (!actor.superuser) throw new ValidationError('name a subtree with ?under=', [{ path: ['querystring', 'under'], message: 'required unless you are a superuser' }]);
      const page = await machines.list(filter, limit, cursor);
      return { ...page, items: await withAgents(page.items.map(seenBy(actor))) };
    });

    app.post('/machines', { schema: { tags, body: CreateMachineInput, response: { 201: MachineView } } }, async (req, reply) => {
      const actor = actorOf(req);
      if (req.body.nodes.length === 0) auth.requireSuperuser(actor, 'add a machine bound to no node');
      for (const p of req.body.nodes) auth.nodeFor(actor, 'machine.write', p);
      const m = seenBy(actor)(await machines.create(actor, req.body));
      return reply.status(201).header('etag', machineEtag(m)).send(m);
    });

    app.post(
      '/machines/import',
      { schema: { tags, querystring: z.strictObject({ mode: z.enum(['create', 'upsert']).default('create') }), body: z.unknown(), response: { 200: ImportReport } } },
      async (req) => {
        const actor = actorOf(req);
        authz.mayImport(actor);
        const type = String(req.headers['content-type'] ?? '');
        const records = typeof req.body === 'string' ? (type.includes('json') ? jsonRecords(parseJsonBody(req.body)) : csvRecords(req.body)) : jsonRecords(req.body);
        return importMachines({ writer, machines }, actor, records, req.query.mode, {
          create: (paths) => authz.createByImport(actor, paths),
          update: (hostname, current, bindTo) => authz.changeByImport(actor, hostname, current, bindTo),
        });
      },
    );

    app.get('/machines/:hostname', { schema: { tags, params: HostParams, response: { 200: MachineView } } }, async (req, reply) => {
      const actor = actorOf(req);
      authz.read(actor, req.params.hostname, await machines.nodesOf(req.params.hostname));
      const [m] = await withAgents([seenBy(actor)(await machines.get(req.params.hostname))]);
      return withEtag(reply, machineEtag(m!), m);
    });

    app.patch('/machines/:hostname', { schema: { tags, params: HostParams, body: PatchMachineInput, response: { 200: MachineView } } }, async (req, reply) => {
      const actor = actorOf(req);
      const m = seenBy(actor)(await machines.patch(actor, req.params.hostname, req.body, ifMatch(req), authz.change(actor)));
      return withEtag(reply, machineEtag(m), m);
    });

    app.post('/machines/:hostname/retire', { schema: { tags, params: HostParams, response: { 200: MachineView } } }, async (req) => {
      const actor = actorOf(req);
      return seenBy(actor)(await machines.retire(actor, req.params.hostname, authz.change(actor)));
    });

    app.put('/nodes/:path/machines/:hostname', { schema: { tags, params: BindParams, response: { 200: MachineView, 201: MachineView } } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'machine.write', req.params.path);
      // Binding changes what the machine runs (its Puppet classes, its deployments), so its every
      // current node must agree: else machine.write on any node would let one pull in another's machine.
      const { machine, created } = await machines.bind(actor, req.params.path, req.params.hostname, authz.change(actor));
      return reply.status(created ? 201 : 200).send(seenBy(actor)(machine));
    });

    app.delete('/nodes/:path/machines/:hostname', { schema: { tags, params: BindParams } }, async (req, reply) => {
      const actor = actorOf(req);
      // Withdrawing the machine from one node needs rights there only: a team may always leave a shared machine.
      auth.nodeFor(actor, 'machine.write', req.params.path);
      await machines.unbind(actor, req.params.path, req.params.hostname);
      return reply.status(204).send();
    });
  };
}
