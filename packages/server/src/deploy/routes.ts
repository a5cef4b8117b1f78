/** HTTP routes of deployments, under /api/v1/deployments and /api/v1/nodes/{path}/deploy…. */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CreateDeploymentInput, DEPLOY_ACTIONS, DeploymentDetailView, DeploymentView, FINISHED_DEPLOY_STATES, NodePath } from '@canopy/core';
import { actorOf } from '../http/auth.ts';
import { openEventStream } from '../http/event-stream.ts';
import { PathParams } from '../http/route-helpers.ts';
import type { DeployService } from './service.ts';

const tags = ['deployments'];
const IdParams = z.strictObject({ id: z.coerce.number().int().positive() });
const ActionParams = IdParams.extend({ action: z.enum(DEPLOY_ACTIONS) });
const HostParams = IdParams.extend({ hostname: z.string().min(1).max(253) });
const ListQuery = z.strictObject({ node: NodePath.optional(), limit: z.coerce.number().int().min(1).max(200).default(50), cursor: z.string().regex(/^\d+$/).optional() });
const PolicyInput = z.strictObject({ requireApproval: z.boolean().nullable() });
const PolicyView = z.object({ requireApproval: z.boolean(), inherited: z.boolean() });

/** Create, list, follow and control deployments; a node's deployment policy and running versions. */
export function deploymentRoutes(deploy: DeployService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/deployments', { schema: { tags, body: CreateDeploymentInput, response: { 201: DeploymentDetailView }, description: "Roll the node's process to a version of its artifact repository" } }, async (req, reply) =>
      reply.status(201).send(await deploy.create(actorOf(req), req.body)),
    );
    app.get('/deployments', { schema: { tags, querystring: ListQuery, response: { 200: z.object({ items: z.array(DeploymentView), nextCursor: z.string().nullable() }) } } }, async (req) =>
      deploy.list(actorOf(req), req.query),
    );
    app.get('/deployments/:id', { schema: { tags, params: IdParams, response: { 200: DeploymentDetailView } } }, async (req) => deploy.get(actorOf(req), req.params.id));
    app.post('/deployments/:id/:action', { schema: { tags, params: ActionParams, response: { 200: DeploymentDetailView, 201: DeploymentDetailView }, description: 'pause, resume, stop, approve, or rollback (201: the deployment of the previous version)' } }, async (req, reply) => {
      const r = await deploy.act(actorOf(req), req.params.id, req.params.action);
      return reply.status(r.created ? 201 : 200).send(r.view);
    });
    app.get('/deployments/:id/hosts/:hostname/log', { schema: { tags, params: HostParams, response: { 200: z.object({ text: z.string() }) } } }, async (req) =>
      deploy.hostLog(actorOf(req), req.params.id, req.params.hostname),
    );
    // Live progress: the deployment's detail each time it changes (at most every 200 ms), until it finishes.
    app.get('/deployments/:id/log', { schema: { tags, params: IdParams, hide: true } }, async (req, reply) => {
      const id = req.params.id;
      await deploy.get(actorOf(req), id);
      reply.hijack();
      const stream = openEventStream(req.raw, reply.raw, { maxBuffered: 8 * 1024 * 1024, pingMs: 15_000 });
      let timer: NodeJS.Timeout | undefined;
      let sending = false;
      const send = async () => {
        timer = undefined;
        if (sending) return void (timer = setTimeout(send, 200));
        sending = true;
        try {
          const d = await deploy.detail(id);
          stream.write(Buffer.from(`event: deployment\ndata: ${JSON.stringify(d)}\n\n`));
          if (FINISHED_DEPLOY_STATES.includes(d.state)) stream.end();
        } finally {
          sending = false;
        }
      };
      const unfollow = deploy.follow(id, () => {
        timer ??= setTimeout(() => void send(), 200);
      });
      stream.onEnd(() => {
        unfollow();
        clearTimeout(timer);
      });
      await send();
      return reply;
    });

    app.get('/nodes/:path/deploy/running', { schema: { tags, params: PathParams, description: 'Which version runs on which host at or under the node' } }, async (req) => deploy.running(actorOf(req), req.params.path));
    app.get('/nodes/:path/deploy-policy', { schema: { tags, params: PathParams, response: { 200: PolicyView } } }, async (req) => deploy.policy(actorOf(req), req.params.path));
    app.put('/nodes/:path/deploy-policy', { schema: { tags, params: PathParams, body: PolicyInput, response: { 200: PolicyView }, description: 'requireApproval: true/false here, null to inherit' } }, async (req) =>
      deploy.setPolicy(actorOf(req), req.params.path, req.body.requireApproval),
    );
  };
}
