/**
 * GET /api/v1/builds/{id}/log: the build's log. As `text/event-stream` it is live: `log` events
 * carry each new piece (`{at, text}`, `at` the byte offset it starts at), `build` events the build
 * whenever its state changes, `reset` the whole log when the kept log no longer continues what was
 * sent (a truncated log's tail replacing the live head), and `end` once the build finished. Any
 * other Accept gets the log so far as plain text.
 */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { FINISHED_BUILD_STATES } from '@canopy/core';
import type { Actor } from '../changes/index.ts';
import { actorOf } from '../http/auth.ts';
import { openEventStream } from '../http/event-stream.ts';
import type { BuildService } from './service.ts';

const IdParams = z.strictObject({ id: z.coerce.number().int().positive().max(2 ** 31 - 1) });

const frame = (event: string, data: unknown) => Buffer.from(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

/** The log route; `authorize` checks the caller may read the build. */
export function logRoute(builds: BuildService, authorize: (actor: Actor, id: number) => Promise<void>): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/builds/:id/log', { schema: { tags: ['builds'], params: IdParams, hide: true } }, async (req, reply) => {
      await authorize(actorOf(req), req.params.id);
      const id = req.params.id;
      if (!(req.headers.accept ?? '').includes('text/event-stream')) {
        const b = await builds.detail(id);
        const log = b.taskId ? await builds.log(b.taskId) : undefined;
        return reply.type('text/plain; charset=utf-8').send(log?.stdout ?? '');
      }
      reply.hijack();
      const stream = openEventStream(req.raw, reply.raw, { maxBuffered: 32 * 1024 * 1024, pingMs: 15_000 });
      let sent = 0;
      let lastState = '';
      let timer: NodeJS.Timeout | undefined;
      let busy = false;
      let ended = false;
      const send = async () => {
        timer = undefined;
        if (ended) return;
        if (busy) return void (timer = setTimeout(send, 100));
        busy = true;
        try {
          const b = await builds.detail(id);
          if (b.state !== lastState) {
            lastState = b.state;
            stream.write(frame('build', b));
          }
          const log = b.taskId ? await builds.log(b.taskId) : undefined;
          if (log) {
            const bytes = Buffer.from(log.stdout);
            if (bytes.length < sent) {
              stream.write(frame('reset', { at: 0, text: log.stdout }));
              sent = bytes.length;
            } else if (bytes.length > sent) {
              stream.write(frame('log', { at: sent, text: bytes.subarray(sent).toString('utf8') }));
              sent = bytes.length;
            }
          }
          if (FINISHED_BUILD_STATES.includes(b.state)) {
            ended = true;
            stream.write(frame('end', { state: b.state, reason: b.reason, artifact: b.artifact }));
            stream.end();
          }
        } catch (err) {
          ended = true;
          stream.end();
          req.log.error(err);
        } finally {
          busy = false;
        }
      };
      const unfollow = builds.follow(id, () => {
        timer ??= setTimeout(() => void send(), 50);
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
