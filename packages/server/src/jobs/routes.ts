/** HTTP routes of batch jobs, under /api/v1/jobs. */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CreateJobInput, JobDetailView, JobView, NodePath, NotFoundError, SkipHostsInput } from '@canopy/core';
import type { Actor } from '../changes/index.ts';
import type { AuthService } from '../auth/index.ts';
import { actorOf } from '../http/auth.ts';
import { openEventStream } from '../http/event-stream.ts';
import type { JobService } from './service.ts';

const tags = ['jobs'];
const IdParams = z.strictObject({ id: z.coerce.number().int().positive() });
const ListQuery = z.strictObject({ under: NodePath.optional(), limit: z.coerce.number().int().min(1).max(200).default(50), before: z.coerce.number().int().positive().optional() });

/** Routes for creating, reading, following and controlling jobs. */
export function jobRoutes(jobs: JobService, auth: AuthService): FastifyPluginAsyncZod {
  // A job of a subtree is read with machine.read and controlled with the operation it ran under;
  // a job over a list of hosts (no node) only by superusers and its creator's peers with the op on a node — kept simple: superusers.
  async function authorize(actor: Actor, id: number, write: boolean): Promise<void> {
    const path = await jobs.nodePathOf(id);
    if (path === null) {
      if (!actor.superuser) throw new NotFoundError('job', String(id));
      return;
    }
    const node = auth.nodeFor(actor, 'machine.read', path);
    if (write && !auth.can(actor, 'machine.exec', node.id) && !auth.can(actor, 'machine.root', node.id)) auth.authorize(actor, 'machine.root', node);
  }

  return async (app) => {
    app.post('/jobs', { schema: { tags, body: CreateJobInput, response: { 201: JobView } } }, async (req, reply) => {
      return reply.status(201).send(await jobs.create(actorOf(req), req.body));
    });
    app.get('/jobs', { schema: { tags, querystring: ListQuery, response: { 200: z.object({ items: z.array(JobView), nextCursor: z.string().nullable() }) } } }, async (req) => {
      const actor = actorOf(req);
      if (req.query.under) auth.nodeFor(actor, 'machine.read', req.query.under);
      else if (!actor.superuser) throw new NotFoundError('node', '(all)');
      const items = await jobs.list({ underPath: req.query.under, limit: req.query.limit, before: req.query.before });
      return { items, nextCursor: items.length === req.query.limit ? String(items.at(-1)!.id) : null };
    });
    app.get('/jobs/:id', { schema: { tags, params: IdParams, response: { 200: JobDetailView } } }, async (req) => {
      await authorize(actorOf(req), req.params.id, false);
      return jobs.detail(req.params.id);
    });
    for (const action of ['pause', 'resume', 'stop', 'retry'] as const) {
      app.post(`/jobs/:id/${action}`, { schema: { tags, params: IdParams, response: { 200: JobView } } }, async (req) => {
        const actor = actorOf(req);
        await authorize(actor, req.params.id, true);
        return jobs[action](actor, req.params.id);
      });
    }
    app.post('/jobs/:id/skip', { schema: { tags, params: IdParams, body: SkipHostsInput, response: { 200: JobView } } }, async (req) => {
      const actor = actorOf(req);
      await authorize(actor, req.params.id, true);
      return jobs.skip(actor, req.params.id, req.body.hosts);
    });
    // Live progress: the job's detail each time it or one of its tasks changes (at most every 200 ms).
    app.get('/jobs/:id/output', { schema: { tags, params: IdParams, hide: true } }, async (req, reply) => {
      await authorize(actorOf(req), req.params.id, false);
      const id = req.params.id;
      reply.hijack();
      const stream = openEventStream(req.raw, reply.raw, { maxBuffered: 8 * 1024 * 1024, pingMs: 15_000 });
      let timer: NodeJS.Timeout | undefined;
      let sending = false;
      const send = async () => {
        timer = undefined;
        if (sending) return void (timer = setTimeout(send, 200));
        sending = true;
        try {
          const d = await jobs.detail(id);
          stream.write(Buffer.from(`event: job\ndata: ${JSON.stringify(d)}\n\n`));
          if (['stopped', 'succeeded', 'failed'].includes(d.state)) stream.end();
        } finally {
          sending = false;
        }
      };
      const unfollow = jobs.follow(id, () => {
        timer ??= setTimeout(() => void send(), 200);
      });
      stream.onEnd(() => {
        unfollow();
        clearTimeout(timer);
      });
      await send();
      return reply;
    });
  };
}
