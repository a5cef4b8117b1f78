/** HTTP routes of monitoring, under /api/v1/monitor, and a node's collect rules. */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CollectRulesInput, CollectRulesView, MonitorOverview, MonitorQueryParams, MonitorQueryResult, MonitorTopParams, MonitorTopResult, NodePath, PrometheusTargets } from '@canopy/core';
import type { AuthService } from '../auth/index.ts';
import { actorOf } from '../http/auth.ts';
import type { MonitorService } from './service.ts';

const tags = ['monitor'];
const Under = z.strictObject({ under: NodePath });
const TargetsQuery = z.strictObject({ under: NodePath, port: z.coerce.number().int().min(1).max(65535).optional() });
const PathParams = z.strictObject({ path: NodePath });

/** Reads need `monitor.read` on the node; collect rules `monitor.write`, and `machine.root` for script rules. */
export function monitorRoutes(monitor: MonitorService, auth: AuthService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/monitor/query', { schema: { tags, querystring: MonitorQueryParams, response: { 200: MonitorQueryResult } } }, async (req) => {
      const node = auth.nodeFor(actorOf(req), 'monitor.read', req.query.under);
      return monitor.query(node, req.query);
    });
    app.get('/monitor/top', { schema: { tags, querystring: MonitorTopParams, response: { 200: MonitorTopResult } } }, async (req) => {
      const node = auth.nodeFor(actorOf(req), 'monitor.read', req.query.under);
      return monitor.top(node, req.query);
    });
    app.get('/monitor/overview', { schema: { tags, querystring: Under, response: { 200: MonitorOverview } } }, async (req) => {
      const node = auth.nodeFor(actorOf(req), 'monitor.read', req.query.under);
      return monitor.overview(node);
    });
    // Prometheus's http_sd_configs polls this with a Canopy token (authorization: credentials).
    app.get('/monitor/prometheus/targets', { schema: { tags, querystring: TargetsQuery, response: { 200: PrometheusTargets } } }, async (req) => {
      const node = auth.nodeFor(actorOf(req), 'monitor.read', req.query.under);
      return monitor.targets(node, req.query.port);
    });
    // Prometheus's rule_files: the panels of big nodes kept as one series each (see prometheus.ts).
    app.get('/monitor/prometheus/recording-rules', { schema: { tags, querystring: Under } }, async (req, reply) => {
      const node = auth.nodeFor(actorOf(req), 'monitor.read', req.query.under);
      return reply.type('application/yaml; charset=utf-8').send(monitor.recordingRules(node));
    });
    app.get('/monitor/storage', { schema: { tags, response: { 200: z.object({ series: z.number(), diskBytes: z.number(), source: z.string() }) } } }, async (req) => {
      auth.requireSuperuser(actorOf(req), 'monitor storage');
      return { series: monitor.history.seriesCount(), diskBytes: await monitor.history.diskBytes(), source: monitor.backendSource };
    });
    app.get('/nodes/:path/collect-rules', { schema: { tags, params: PathParams, response: { 200: CollectRulesView } } }, async (req) => {
      const node = auth.nodeFor(actorOf(req), 'monitor.read', req.params.path);
      return monitor.rules.view(node);
    });
    app.put('/nodes/:path/collect-rules', { schema: { tags, params: PathParams, body: CollectRulesInput, response: { 200: CollectRulesView } } }, async (req) => {
      const actor = actorOf(req);
      const node = auth.nodeFor(actor, 'monitor.write', req.params.path);
      if (monitor.rules.touchesScripts(node, req.body.rules)) auth.authorize(actor, 'machine.root', node);
      await monitor.rules.set(actor, node, req.body.rules);
      return monitor.rules.view(node);
    });
  };
}
