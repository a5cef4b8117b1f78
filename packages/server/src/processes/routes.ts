/** HTTP routes of supervised processes, under /api/v1/nodes/{path}/process(es). */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ProcessLogQuery, ProcessSpec } from '@canopy/core';
import { actorOf } from '../http/auth.ts';
import { openEventStream } from '../http/event-stream.ts';
import { PathParams } from '../http/route-helpers.ts';
import type { ProcessService } from './service.ts';

const tags = ['processes'];
const ActionParams = PathParams.extend({ action: z.enum(['start', 'stop', 'restart']) });
/** How long a one-off log read waits for the agent's answer. */
const LOG_READ_MS = 15_000;

/** Declaration, listing, control and logs of the processes of a subtree. */
export function processRoutes(processes: ProcessService): FastifyPluginAsyncZod {
  return async (app) => {
    app.put('/nodes/:path/process', { schema: { tags, params: PathParams, body: ProcessSpec, description: "Declare the node's supervised process; a change replaces the running ones machine by machine" } }, async (req, reply) => {
      const r = await processes.declare(actorOf(req), req.params.path, req.body);
      return reply.status(r.created ? 201 : 200).send(r.view);
    });
    app.get('/nodes/:path/process', { schema: { tags, params: PathParams } }, async (req) => processes.get(actorOf(req), req.params.path));
    app.delete('/nodes/:path/process', { schema: { tags, params: PathParams } }, async (req, reply) => {
      await processes.remove(actorOf(req), req.params.path);
      return reply.status(204).send();
    });
    app.get('/nodes/:path/processes', { schema: { tags, params: PathParams, description: 'Every machine\'s process at or under the node: state, pid, uptime, restarts, health' } }, async (req) => ({
      items: await processes.list(actorOf(req), req.params.path),
    }));
    app.post('/nodes/:path/processes/:action', { schema: { tags, params: ActionParams, description: 'start, stop, or restart (rolling, one machine at a time) every process at or under the node' } }, async (req) => ({
      items: await processes.act(actorOf(req), req.params.path, req.params.action),
    }));
    // The log of one host's process: JSON {text} with the last lines, or (follow) an event stream of `log` events.
    app.get('/nodes/:path/processes/logs', { schema: { tags, params: PathParams, querystring: ProcessLogQuery } }, async (req, reply) => {
      const q = req.query;
      const follow = q.follow === 'true' || q.follow === '1';
      const opts = { host: q.host, node: q.node, stream: q.stream, lines: q.lines, follow };
      if (!follow) {
        let text = '';
        let settle: (v: { text: string; error?: string }) => void = () => {};
        const done = new Promise<{ text: string; error?: string }>((r) => (settle = r));
        const sub = processes.openLog(actorOf(req), req.params.path, opts, (chunk, error) => {
          if (chunk !== undefined) return void (text += chunk);
          settle(error === undefined ? { text } : { text, error });
        });
        const timer = setTimeout(() => settle({ text, error: `the agent of ${q.host} did not answer within ${LOG_READ_MS / 1000} s` }), LOG_READ_MS);
        const out = await done;
        clearTimeout(timer);
        sub.close();
        if (out.error !== undefined) return reply.status(502).type('application/problem+json').send({ type: 'about:blank', title: 'Bad Gateway', status: 502, code: 'agent_error', detail: out.error });
        return { host: q.host, stream: q.stream, text: out.text };
      }
      let stream: ReturnType<typeof openEventStream> | undefined;
      const pending: Buffer[] = [];
      const sub = processes.openLog(actorOf(req), req.params.path, opts, (chunk, error) => {
        const ev = Buffer.from(chunk !== undefined ? `event: log\ndata: ${JSON.stringify({ text: chunk })}\n\n` : `event: end\ndata: ${JSON.stringify(error === undefined ? {} : { error })}\n\n`);
        if (stream) stream.write(ev);
        else pending.push(ev);
        if (chunk === undefined) stream?.end();
      });
      reply.hijack();
      stream = openEventStream(req.raw, reply.raw, { maxBuffered: 4 * 1024 * 1024, pingMs: 15_000 });
      for (const ev of pending) stream.write(ev);
      stream.onEnd(() => sub.close());
      return reply;
    });
  };
}
