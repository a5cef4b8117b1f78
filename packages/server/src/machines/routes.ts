/** HTTP routes for machines and their bindings. */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ForbiddenError, CreateMachineInput, Hostname, ImportReport, ListMachinesQuery, MachineView, NodePath, NotFoundError, PatchMachineInput, ValidationError, pageOf } from '@canopy/core';
import type { Actor, Writer } from '../changes/index.ts';
import type { AuthService } from '../auth/index.ts';
import { actorOf } from '../http/auth.ts';
import { parseJsonBody } from '../http/json.ts';
import { ifMatch, withEtag } from '../http/route-helpers.ts';
import { csvRecords, importMachines, jsonRecords } from './import.ts';
import { machineEtag, type MachineService } from './service.ts';

const tags = ['machines'];
const HostParams = z.strictObject({ hostname: Hostname });
const BindParams = z.strictObject({ path: NodePath, hostname: Hostname });

/** Routes under /api/v1/machines and /api/v1/nodes/{path}/machines. */
export function machineRoutes(machines: MachineService, auth: AuthService, writer: Writer): FastifyPluginAsyncZod {
  /** A machine is visible through any node it is bound to; unbound machines only to superusers. */
  async function authorizeMachine(actor: Actor, op: 'machine.read' | 'machine.write', hostname: string): Promise<void> {
    if (actor.superuser) return;
    const nodes = await machines.nodesOf(hostname);
    if (nodes.some((n) => auth.can(actor, op, n.id))) return;
    const readable = nodes.find((n) => auth.can(actor, 'machine.read', n.id));
    if (readable) throw new ForbiddenError(op, hostname);
    throw new NotFoundError('machine', hostname);
  }

  function mayPlace(actor: Actor, paths: string[]): boolean {
    if (actor.superuser) return true;
    if (paths.length === 0) return false;
    return paths.every((p) => canWrite(actor, p));
  }

  /** Import writes only where the actor holds machine.write; with none anywhere, it is refused outright. */
  function mayImport(actor: Actor): void {
    if (actor.superuser) return;
    if (!auth.acl.grantRoots(actor).some((id) => auth.can(actor, 'machine.write', id))) throw new ForbiddenError('machine.write', 'any node');
  }

  function canWrite(actor: Actor, path: string): boolean {
    try {
      auth.nodeFor(actor, 'machine.write', path);
      return true;
    } catch {
      return false;
    }
  }

  return async (app) => {
    app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));

    app.get('/machines', { schema: { tags, querystring: ListMachinesQuery, response: { 200: pageOf(MachineView) } } }, async (req) => {
      const actor = actorOf(req);
      const { limit, cursor, ...filter } = req.query;
      if (filter.under) auth.nodeFor(actor, 'machine.read', filter.under);
      else if (!actor.superuser) throw new ValidationError('name a subtree with ?under=', [{ path: ['querystring', 'under'], message: 'required unless you are a superuser' }]);
      return machines.list(filter, limit, cursor);
    });

    app.post('/machines', { schema: { tags, body: CreateMachineInput, response: { 201: MachineView } } }, async (req, reply) => {
      const actor = actorOf(req);
      if (req.body.nodes.length === 0) auth.requireSuperuser(actor, 'add a machine bound to no node');
      for (const p of req.body.nodes) auth.nodeFor(actor, 'machine.write', p);
      const m = await machines.create(actor, req.body);
      return reply.status(201).header('etag', machineEtag(m)).send(m);
    });

    app.post(
      '/machines/import',
      { schema: { tags, querystring: z.strictObject({ mode: z.enum(['create', 'upsert']).default('create') }), body: z.unknown(), response: { 200: ImportReport } } },
      async (req) => {
        const actor = actorOf(req);
        mayImport(actor);
        const type = String(req.headers['content-type'] ?? '');
        const records = typeof req.body === 'string' ? (type.includes('json') ? jsonRecords(parseJsonBody(req.body)) : csvRecords(req.body)) : jsonRecords(req.body);
        return importMachines({ writer, machines }, actor, records, req.query.mode, {
          mayCreate: (paths) => mayPlace(actor, paths),
          // Updating an existing machine needs machine.write where it already is, not where the row says.
          mayUpdate: (nodeIds) => actor.superuser || nodeIds.some((id) => auth.can(actor, 'machine.write', id)),
        });
      },
    );

    app.get('/machines/:hostname', { schema: { tags, params: HostParams, response: { 200: MachineView } } }, async (req, reply) => {
      await authorizeMachine(actorOf(req), 'machine.read', req.params.hostname);
      const m = await machines.get(req.params.hostname);
      return withEtag(reply, machineEtag(m), m);
    });

    app.patch('/machines/:hostname', { schema: { tags, params: HostParams, body: PatchMachineInput, response: { 200: MachineView } } }, async (req, reply) => {
      const actor = actorOf(req);
      await authorizeMachine(actor, 'machine.write', req.params.hostname);
      const m = await machines.patch(actor, req.params.hostname, req.body, ifMatch(req));
      return withEtag(reply, machineEtag(m), m);
    });

    app.post('/machines/:hostname/retire', { schema: { tags, params: HostParams, response: { 200: MachineView } } }, async (req) => {
      const actor = actorOf(req);
      await authorizeMachine(actor, 'machine.write', req.params.hostname);
      return machines.retire(actor, req.params.hostname);
    });

    app.put('/nodes/:path/machines/:hostname', { schema: { tags, params: BindParams, response: { 200: MachineView, 201: MachineView } } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'machine.write', req.params.path);
      // Binding pulls the machine into the actor's subtree, so the actor must already hold it: else
      // machine.write on any node would let one take over (then retire) another subtree's machines.
      await authorizeMachine(actor, 'machine.write', req.params.hostname);
      const { machine, created } = await machines.bind(actor, req.params.path, req.params.hostname);
      return reply.status(created ? 201 : 200).send(machine);
    });

    app.delete('/nodes/:path/machines/:hostname', { schema: { tags, params: BindParams } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'machine.write', req.params.path);
      await machines.unbind(actor, req.params.path, req.params.hostname);
      return reply.status(204).send();
    });
  };
}
