/**
 * Reads: one service's answer (optionally a blocking query) and the SSE watch over many services.
 *
 * Blocking query: `GET /services/{path}/instances?index=N&wait=30s` answers at once when the
 * answer's index is past N, else when it passes N, else after `wait` (capped at 5 min) with the same
 * index. The index is always in `X-Canopy-Index`.
 *
 * Watch: `GET /watch?services=a.b,c.d[&since=REV]` is a `text/event-stream`. Every event's `id:` is
 * a change-feed revision and its `data:` is `{revision, services:[answer…]}` holding the new answer
 * of each watched path that changed. A new watch starts with a `snapshot` event; a watch resumed
 * with `Last-Event-ID` (or `since`) replays, as `change` events in revision order, each path that
 * changed since, once — or sends a `snapshot` when the server no longer remembers that far back, or
 * never got that far (its database was reset). Events go straight to the socket (http/event-stream.ts).
 * A comment line every 15 s keeps proxies from closing an idle stream.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Answer, DEFAULT_WAIT_MS, InstancesQuery, NotFoundError, WatchQuery } from '@canopy/core';
import { actorOf } from '../http/auth.ts';
import { openEventStream, type EventStream } from '../http/event-stream.ts';
import { PathParams } from '../http/route-helpers.ts';
import type { DiscoveryAccess } from './access.ts';
import type { DiscoveryService } from './service.ts';
import { createAnswerEncoder } from './encoding.ts';

const tags = ['discovery'];
const PING_MS = 15_000;
/** A watcher this far behind on reading is cut off; it resumes from its last event id. */
const MAX_BUFFERED = 8 * 1024 * 1024;
/** How long an EventSource waits before reconnecting. */
const RETRY = Buffer.from('retry: 2000\n\n');

/** Routes for resolution, blocking queries and SSE watches. */
export function watchRoutes(discovery: DiscoveryService, access: DiscoveryAccess): FastifyPluginAsyncZod {
  const streams = new Set<EventStream>();
  const encoder = createAnswerEncoder(discovery, access);

  return async (app) => {
    app.addHook('preClose', async () => {
      for (const stream of [...streams]) stream.end();
      discovery.releaseWaits();
    });

    app.get('/services/:path/instances', { schema: { tags, params: PathParams, querystring: InstancesQuery, response: { 200: Answer } } }, async (req, reply) => {
      const actor = actorOf(req);
      const { path } = req.params;
      const q = req.query;
      const target = access.read(actor, path);
      const caller = access.caller(actor, q.caller);
      const o = { healthyOnly: q.healthy, zone: access.zoneOf(actor, q.zone) };
      if (caller) discovery.recordLookup(caller.id, target.id);
      if (q.index === undefined) {
        // The hot path: the shared encoding of this answer. A string with a JSON content type goes out
        // as is (the schema still documents it); the cast only tells the type provider so.
        const encoded = encoder.answer(path, o);
        if (!encoded) throw new NotFoundError('service', path);
        return reply.header('x-canopy-index', String(encoded.index)).type('application/json; charset=utf-8').send(encoded.json as unknown as Answer);
      }
      const answer = await discovery.waitForChange(path, o, q.index, q.wait ?? DEFAULT_WAIT_MS);
      if (!answer) throw new NotFoundError('service', path);
      return reply.header('x-canopy-index', String(answer.index)).send(answer);
    });

    app.get('/watch', { schema: { tags, querystring: WatchQuery } }, async (req, reply) => {
      const actor = actorOf(req);
      const q = req.query;
      const targets = q.services.map((p) => access.read(actor, p));
      const caller = access.caller(actor, q.caller);
      if (caller) for (const t of targets) discovery.recordLookup(caller.id, t.id);
      const asked = lastEventId(req.headers['last-event-id']) ?? q.since;
      // A revision from the future (the database was reset, or it is another cluster's) starts over.
      const since = asked !== undefined && asked <= discovery.revision() ? asked : undefined;
      const o = { healthyOnly: q.healthy, zone: access.zoneOf(actor, q.zone) };

      reply.hijack();
      const stream = openEventStream(req.raw, reply.raw, { maxBuffered: MAX_BUFFERED, pingMs: PING_MS });
      const send = (event: 'snapshot' | 'change', revision: number, paths: readonly string[]) => {
        stream.write(encoder.event(actor, event, revision, paths, o));
      };
      if (!stream.write(RETRY)) return reply;

      // Subscribe, then replay or snapshot, in one synchronous step: no change can slip between.
      const unwatch = discovery.watch(q.services, (revision, paths) => {
        if (since === undefined || revision > since) send('change', revision, paths);
      });
      const replay = since === undefined ? undefined : discovery.changedSince(q.services, since);
      if (replay) for (const [revision, paths] of replay) send('change', revision, paths);
      else send('snapshot', discovery.revision(), q.services);
      streams.add(stream);
      stream.onEnd(() => {
        streams.delete(stream);
        unwatch();
      });
      return reply;
    });
  };
}

function lastEventId(header: string | string[] | undefined): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  return v !== undefined && /^\d{1,15}$/.test(v) ? Number(v) : undefined;
}
