/** HTTP routes of availability, under /api/v1/monitor/availability. Parse → authorize → call. */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AvailabilitySettings, NodePath, NotFoundError, ValidationError } from '@canopy/core';
import type { AuthService } from '../auth/index.ts';
import { actorOf } from '../http/auth.ts';
import type { AvailabilityService } from './service.ts';

const tags = ['availability'];
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const MAX_WINDOW_MS = 90 * UNIT_MS.d;

/** `30s`, `5m`, `1h`, `28d`: a window ending now. */
export const WindowParam = z
  .string()
  .regex(/^[1-9][0-9]{0,6}[smhd]$/, 'a duration such as 30s, 5m, 1h or 28d')
  .transform((v, ctx) => {
    const ms = Number(v.slice(0, -1)) * UNIT_MS[v.at(-1) as keyof typeof UNIT_MS];
    if (ms > MAX_WINDOW_MS) ctx.addIssue({ code: 'custom', message: 'at most 90d' });
    return ms;
  });

const PathParams = z.strictObject({ path: NodePath });
const WindowQuery = z.strictObject({ window: WindowParam.prefault('5m') });

/** Availability routes. */
export function availabilityRoutes(availability: AvailabilityService, auth: AuthService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/monitor/availability', { schema: { tags, querystring: z.strictObject({ under: NodePath.optional(), window: WindowParam.prefault('5m') }) } }, async (req) => {
      const actor = actorOf(req);
      const under = req.query.under ?? '';
      if (under !== '') auth.nodeFor(actor, 'availability.read', under);
      else if (!actor.superuser) throw new NotFoundError('node', '(all)');
      return { items: availability.list(under, req.query.window, (id) => auth.can(actor, 'availability.read', id)) };
    });
    app.get('/monitor/availability/sources', { schema: { tags } }, async (req) => {
      if (!actorOf(req).superuser) throw new NotFoundError('node', '(all)');
      return { items: availability.sources() };
    });
    app.get('/monitor/availability/services/:path', { schema: { tags, params: PathParams, querystring: WindowQuery } }, async (req) => {
      auth.nodeFor(actorOf(req), 'availability.read', req.params.path);
      return availability.service(req.params.path, req.query.window);
    });
    app.get('/monitor/availability/services/:path/ejections', { schema: { tags, params: PathParams, querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(50) }) } }, async (req) => {
      auth.nodeFor(actorOf(req), 'availability.read', req.params.path);
      return { items: await availability.ejections(req.params.path, req.query.limit) };
    });
    app.get('/monitor/availability/services/:path/settings', { schema: { tags, params: PathParams } }, async (req) => {
      auth.nodeFor(actorOf(req), 'availability.read', req.params.path);
      return availability.settings(req.params.path);
    });
    app.put('/monitor/availability/services/:path/settings', { schema: { tags, params: PathParams, body: AvailabilitySettings } }, async (req) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'availability.write', req.params.path);
      const s = req.body;
      if (s.ejection.maxEjectionSeconds < s.ejection.baseEjectionSeconds) {
        throw new ValidationError('the longest ejection is shorter than the base one', [{ path: ['ejection', 'maxEjectionSeconds'], message: `at least baseEjectionSeconds (${s.ejection.baseEjectionSeconds})` }]);
      }
      return { settings: await availability.putSettings(actor, req.params.path, s), custom: true };
    });
    app.delete('/monitor/availability/services/:path/settings', { schema: { tags, params: PathParams } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'availability.write', req.params.path);
      await availability.deleteSettings(actor, req.params.path);
      return reply.status(204).send();
    });
  };
}
