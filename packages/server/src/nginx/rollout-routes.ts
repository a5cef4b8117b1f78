/**
 * `GET /api/v1/{nginx|lvs}/clusters/{path}/machines`: each machine of the cluster with the version
 * it runs, the rollout's target, and whether it lags behind or failed (with the error). Reading it
 * needs `<kind>.read` on the cluster node, like the cluster's config.
 */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Operation } from '@canopy/core';
import type { AuthService } from '../auth/index.ts';
import { actorOf } from '../http/auth.ts';
import { PathParams } from '../http/route-helpers.ts';
import type { Rollout } from './rollout.ts';

const MachineVersionView = z.object({
  hostname: z.string(),
  version: z.number().int().nullable(),
  target: z.number().int(),
  state: z.enum(['current', 'applying', 'failed', 'lagging', 'none']),
  lagging: z.boolean(),
  appliedAt: z.string().nullable(),
  task: z.object({ id: z.string(), version: z.number().int().nullable(), state: z.string().nullable() }).nullable(),
  failedVersion: z.number().int().nullable(),
  error: z.string().nullable(),
  agent: z.string(),
});

/** The per-machine view of a cluster's config rollout. */
export const ClusterMachinesView = z.object({
  cluster: z.string(),
  latest: z.number().int(),
  rollout: z
    .object({
      version: z.number().int(),
      state: z.enum(['canary', 'rolling', 'done', 'failed']),
      canary: z.string().nullable(),
      failedOn: z.string().nullable(),
      error: z.string().nullable(),
      startedAt: z.string().nullable(),
      updatedAt: z.string().nullable(),
    })
    .nullable(),
  machines: z.array(MachineVersionView),
});

/** Routes for `kind`'s rollout views. */
export function rolloutRoutes(kind: 'nginx' | 'lvs', rollout: Rollout, auth: AuthService): FastifyPluginAsyncZod {
  const read = `${kind}.read` as Operation;
  return async (app) => {
    app.get(`/${kind}/clusters/:path/machines`, { schema: { tags: [kind], params: PathParams, response: { 200: ClusterMachinesView } } }, async (req) => {
      const node = auth.nodeFor(actorOf(req), read, req.params.path);
      return { cluster: node.path, ...(await rollout.status(node.id)) };
    });
  };
}
