/**
 * A deployment's strategy: SwarmKit's UpdateConfig (parallelism as batches, delay, failure action,
 * monitor, max failure ratio, order) with its defaults where they fit, plus what users of Spug,
 * Walle and BlueKing ask for: batches as a count, a share or a growth expression, and a canary
 * first batch that waits for a person or for a set time.
 */
import { z } from 'zod';
import { batchSizeProblem } from '../tasks/batches.ts';

export const DEPLOY_ORDERS = ['stop-first', 'start-first'] as const;
export const FAILURE_ACTIONS = ['pause', 'rollback'] as const;

export const DeployStrategy = z.strictObject({
  /** Hosts per batch: `2`, `25%`, or `5 *2` (5, 10, 20, … then the rest). SwarmKit's parallelism, default 1. */
  batch: z
    .union([z.number(), z.string().max(32)])
    .superRefine((v, ctx) => {
      const p = batchSizeProblem(v);
      if (p) ctx.addIssue({ code: 'custom', message: p });
    })
    .default(1),
  /**
   * The first batch is one host, then the deployment waits: for a resume (`waitSeconds` absent) or
   * for `waitSeconds` of a healthy canary.
   */
  canary: z.union([z.literal(false), z.strictObject({ waitSeconds: z.number().int().min(1).max(7 * 24 * 3600).optional() })]).default(false),
  /** stop-first: the old process stops before the new one starts (one port, SwarmKit's default). */
  order: z.enum(DEPLOY_ORDERS).default('stop-first'),
  failureAction: z.enum(FAILURE_ACTIONS).default('pause'),
  /** Share of the hosts that may fail before the failure action applies (SwarmKit: 0). */
  maxFailureRatio: z.number().min(0).max(1).default(0),
  /** Seconds each batch is watched after it is up; a host failing in that time counts (SwarmKit: 5 s). */
  monitorSeconds: z.number().int().min(0).max(24 * 3600).default(5),
  /**
   * Each batch's monitor window also watches the service's availability from its Nginx access logs:
   * below its SLO (with at least SLO_CHECK_MIN_REQUESTS answers counted) the failure action applies.
   */
  availabilityCheck: z.boolean().default(true),
  /** Seconds between batches (SwarmKit: 0). */
  delaySeconds: z.number().int().min(0).max(24 * 3600).default(0),
  /** Seconds a host's new process has to become healthy before the host counts as failed. */
  healthTimeoutSeconds: z.number().int().min(1).max(24 * 3600).default(300),
});
export type DeployStrategy = z.infer<typeof DeployStrategy>;
