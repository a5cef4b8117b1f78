/**
 * The server's own operations surface, outside /api/v1 and before the console's catch-all route:
 *   GET /healthz  liveness: the process answers HTTP (200 whenever it can answer at all);
 *   GET /readyz   readiness: the database answers and the read models follow it (503 otherwise,
 *                 and from the moment a shutdown starts, so a load balancer drains this replica);
 *   GET /metrics  Prometheus text: process, HTTP requests by route and status, change feed, sessions;
 * and the access log: one line per request (method, path, status, duration, user).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'drizzle-orm';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { rows } from '../db/connection.ts';
import type { Services } from '../services.ts';

/** How long a readiness probe waits for the database before it answers 503. */
const READY_TIMEOUT_MS = 2000;

export interface OpsOptions {
  /** Called with each access-log line; off when absent. */
  accessLog?: ((line: string) => void) | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** `process.hrtime.bigint()` when the request arrived, for its duration. */
    startedAt?: bigint;
  }
}

/** The route pattern a request matched (bounded label values), or `unmatched`. */
function routeOf(req: FastifyRequest): string {
  return req.routeOptions.url ?? 'unmatched';
}

/** One access-log line: logfmt, the path without its query (queries can carry search terms). */
export function accessLine(req: FastifyRequest, reply: FastifyReply, ms: number): string {
  const path = req.url.split('?')[0] ?? '';
  const user = req.principal?.actor.name ?? '-';
  return `${new Date().toISOString()} access method=${req.method} path=${JSON.stringify(path)} status=${reply.statusCode} ms=${ms.toFixed(1)} user=${JSON.stringify(user)} id=${req.id}`;
}

/** Metrics of this replica in their own registry, so test servers sharing a process do not clash. */
function createMetrics(services: Services): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'canopy_change_feed_revision',
    help: 'Last change-feed revision applied to this replica\'s read models.',
    registers: [registry],
    collect() {
      this.set(services.feed.revision());
    },
  });
  new Gauge({
    name: 'canopy_agent_sessions',
    help: 'Agent sessions held by this replica.',
    registers: [registry],
    collect() {
      this.set(services.dispatcher.sessionCount);
    },
  });
  return registry;
}

/** Install /healthz, /readyz, /metrics and the access log on `app`; call before the console's routes. */
export function installOps(app: FastifyInstance, services: Services, opts: OpsOptions = {}): void {
  const registry = createMetrics(services);
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({ name: 'canopy_http_requests_total', help: 'HTTP requests answered, by route pattern and status.', labelNames, registers: [registry] });
  const durations = new Histogram({
    name: 'canopy_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by route pattern and status.',
    labelNames,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  let draining = false;

  app.addHook('onRequest', async (req) => {
    req.startedAt = process.hrtime.bigint();
  });
  app.addHook('onResponse', async (req, reply) => {
    const ms = req.startedAt === undefined ? 0 : Number(process.hrtime.bigint() - req.startedAt) / 1e6;
    const labels = { method: req.method, route: routeOf(req), status: String(reply.statusCode) };
    requests.inc(labels);
    durations.observe(labels, ms / 1000);
    opts.accessLog?.(accessLine(req, reply, ms));
  });
  app.addHook('preClose', async () => {
    draining = true;
  });

  const plain = { config: { public: true }, schema: { hide: true } } as const;
  app.get('/healthz', plain, async () => ({ status: 'ok' }));
  app.get('/readyz', plain, async (_req, reply) => {
    const checks = await readiness(services);
    if (draining) checks['shutdown'] = 'the server is shutting down';
    const failed = Object.entries(checks).filter(([, v]) => v !== 'ok');
    if (failed.length === 0) return { status: 'ready', revision: services.feed.revision(), checks };
    return reply.status(503).send({ status: 'unavailable', checks });
  });
  app.get('/metrics', plain, async (_req, reply) => {
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });
}

/** Each readiness check's result: `ok` or why not. */
async function readiness(services: Services): Promise<Record<string, string>> {
  const checks: Record<string, string> = {};
  checks['database'] = await within(READY_TIMEOUT_MS, rows(services.database.db, sql`SELECT 1`));
  // The read models were loaded before the app was built; this shows they still follow the database.
  checks['readModels'] = await within(READY_TIMEOUT_MS, services.feed.catchUp());
  return checks;
}

async function within(ms: number, work: Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${ms} ms`), ms);
  });
  try {
    return await Promise.race([work.then(() => 'ok'), late]);
  } catch (err) {
    // The probe is public: the reason goes to the log, not to whoever asks.
    console.warn(`readiness check failed: ${(err as Error).message}`);
    return 'failed (see the server log)';
  } finally {
    clearTimeout(timer);
  }
}
