/** HTTP routes of alerting: a node's rules and receivers; alerts, silences and Prometheus mode under /monitor. */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AckInput, AlertName, AlertReceiverInput, AlertRuleInput, AlertView, ForbiddenError, Limit, NodePath, NotFoundError, SilenceInput } from '@canopy/core';
import type { AuthService } from '../auth/index.ts';
import { actorOf } from '../http/auth.ts';
import type { Alerting } from './index.ts';
import { AlertmanagerPayload, type PromTarget } from './prometheus-mode.ts';

const tags = ['monitor'];
const PathParams = z.strictObject({ path: NodePath });
const EntryParams = z.strictObject({ path: NodePath, name: AlertName });
const IdParams = z.strictObject({ id: z.coerce.number().int().min(1).max(2 ** 53) });
/** Silence ids are `serial` (int4). */
const SilenceIdParams = z.strictObject({ id: z.coerce.number().int().min(1).max(2 ** 31 - 1) });
const Under = z.strictObject({ under: NodePath });
const AlertsQuery = z.strictObject({ under: NodePath, state: z.enum(['active', 'all']).default('active'), limit: Limit, cursor: z.coerce.number().int().min(1).optional() });
const Silence = z.object({ id: z.number(), node: z.string(), rule: z.string().nullable(), machine: z.string().nullable(), match: z.record(z.string(), z.string()), startsAt: z.string(), endsAt: z.string(), comment: z.string(), createdBy: z.string(), createdAt: z.string() });

/** Reads need `monitor.read` on the node; changes, silences and acknowledgements `monitor.write`. */
export function alertRoutes(a: Alerting, auth: AuthService): FastifyPluginAsyncZod {
  const { service } = a;
  return async (app) => {
    app.get('/nodes/:path/alert-rules', { schema: { tags, params: PathParams } }, async (req) => service.rules(auth.nodeFor(actorOf(req), 'monitor.read', req.params.path)));
    app.put('/nodes/:path/alert-rules/:name', { schema: { tags, params: EntryParams, body: AlertRuleInput } }, async (req) => {
      const actor = actorOf(req);
      const node = auth.nodeFor(actor, 'monitor.write', req.params.path);
      await service.setRule(actor, node.path, req.params.name, req.body);
      return service.rules(node);
    });
    app.delete('/nodes/:path/alert-rules/:name', { schema: { tags, params: EntryParams } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'monitor.write', req.params.path);
      await service.removeRule(actor, req.params.path, req.params.name);
      return reply.status(204).send();
    });
    app.get('/nodes/:path/alert-receivers', { schema: { tags, params: PathParams } }, async (req) => service.receivers(auth.nodeFor(actorOf(req), 'monitor.read', req.params.path)));
    app.put('/nodes/:path/alert-receivers/:name', { schema: { tags, params: EntryParams, body: AlertReceiverInput } }, async (req) => {
      const actor = actorOf(req);
      const node = auth.nodeFor(actor, 'monitor.write', req.params.path);
      await service.setReceiver(actor, node.path, req.params.name, req.body);
      return service.receivers(node);
    });
    app.delete('/nodes/:path/alert-receivers/:name', { schema: { tags, params: EntryParams } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'monitor.write', req.params.path);
      await service.removeReceiver(actor, req.params.path, req.params.name);
      return reply.status(204).send();
    });

    app.get('/monitor/alerts', { schema: { tags, querystring: AlertsQuery, response: { 200: z.object({ items: z.array(AlertView), nextCursor: z.string().nullable() }) } } }, async (req) => {
      const node = auth.nodeFor(actorOf(req), 'monitor.read', req.query.under);
      if (req.query.state === 'active') return { items: service.active(node).slice(0, req.query.limit), nextCursor: null };
      return service.history(node, req.query.limit, req.query.cursor);
    });
    app.post('/monitor/alerts/:id/ack', { schema: { tags, params: IdParams, body: AckInput, response: { 200: AlertView } } }, async (req) => {
      const actor = actorOf(req);
      const row = await service.alert(req.params.id);
      const node = a.tree.get(row.nodeId);
      if (!node) throw new NotFoundError('alert', String(req.params.id));
      auth.nodeFor(actor, 'monitor.write', node.path);
      return service.ack(actor, req.params.id, req.body.comment);
    });

    app.get('/monitor/silences', { schema: { tags, querystring: Under, response: { 200: z.object({ items: z.array(Silence) }) } } }, async (req) => ({ items: service.silences(auth.nodeFor(actorOf(req), 'monitor.read', req.query.under)) }));
    app.post('/monitor/silences', { schema: { tags, body: SilenceInput, response: { 201: Silence } } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'monitor.write', req.body.node);
      return reply.status(201).send(await service.silence(actor, req.body));
    });
    app.delete('/monitor/silences/:id', { schema: { tags, params: SilenceIdParams } }, async (req, reply) => {
      const actor = actorOf(req);
      const s = await service.silenceById(req.params.id);
      const node = s && a.tree.get(s.nodeId);
      if (!node) throw new NotFoundError('silence', String(req.params.id));
      auth.nodeFor(actor, 'monitor.write', node.path);
      await service.expireSilence(actor, req.params.id);
      return reply.status(204).send();
    });

    app.get('/monitor/prometheus/rules', { schema: { tags, querystring: Under } }, async (req, reply) => {
      const node = auth.nodeFor(actorOf(req), 'monitor.read', req.query.under);
      return reply.type('application/yaml; charset=utf-8').send(a.ruleFile(node));
    });
    // Alertmanager's webhook_config posts here with a Canopy token (http_config.authorization).
    app.post('/monitor/alertmanager', { schema: { tags, body: AlertmanagerPayload } }, async (req) => {
      const actor = actorOf(req);
      const targets: PromTarget[] = req.body.alerts.map((alert, i) => {
        const path = alert.labels['canopy_origin'];
        const origin = path === undefined ? undefined : a.tree.byPath(path);
        if (!origin) throw new NotFoundError('node', `alerts[${i}].labels.canopy_origin=${path ?? '(missing)'}`);
        auth.nodeFor(actor, 'monitor.write', origin.path);
        return { alert, origin };
      });
      if (actor.kind === 'agent') throw new ForbiddenError('post alerts', 'a machine credential');
      return a.ingestAlertmanager(actor, targets);
    });
  };
}
