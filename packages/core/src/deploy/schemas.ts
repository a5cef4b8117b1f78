/** The deployments API: what `POST /api/v1/deployments` takes and what the control center shows. */
import { z } from 'zod';
import { NodePath } from '../schemas/common.ts';
import { DEPLOY_STATES } from './plan.ts';
import { DeployStrategy } from './strategy.ts';

export const DEPLOY_HOST_STATES = ['pending', 'staging', 'staged', 'stopping-old', 'starting', 'retiring-old', 'updated', 'failed', 'skipped'] as const;

export const CreateDeploymentInput = z.strictObject({
  nodePath: NodePath,
  /** A version in the node's artifact repository. */
  version: z.string().min(1).max(128),
  strategy: DeployStrategy.default(DeployStrategy.parse({})),
  /** Why, shown in the history. */
  reason: z.string().max(500).optional(),
});
export type CreateDeploymentInput = z.input<typeof CreateDeploymentInput>;

export const DEPLOY_ACTIONS = ['pause', 'resume', 'stop', 'rollback', 'approve'] as const;
export type DeployAction = (typeof DEPLOY_ACTIONS)[number];

export const DeploymentHostView = z.object({
  hostname: z.string(),
  batch: z.number().int(),
  state: z.enum(DEPLOY_HOST_STATES),
  reason: z.string().nullable(),
  /** The version the host ran before (null: none). */
  fromVersion: z.string().nullable(),
  /** The new process task: its id and SwarmKit state name (null: not created). */
  taskId: z.string().nullable(),
  task: z.string().nullable(),
  message: z.string(),
  since: z.string(),
});
export type DeploymentHostView = z.infer<typeof DeploymentHostView>;

export const DeploymentView = z.object({
  id: z.number().int(),
  node: z.string(),
  version: z.string(),
  /** The version most hosts ran before; what a rollback deploys. */
  previousVersion: z.string().nullable(),
  strategy: DeployStrategy,
  state: z.enum(DEPLOY_STATES),
  /** Why it is paused (or why it stopped or rolled back). */
  reason: z.string().nullable(),
  batches: z.array(z.number().int()),
  currentBatch: z.number().int(),
  /** Hosts by state, for progress bars. */
  progress: z.object({ total: z.number().int(), updated: z.number().int(), failed: z.number().int(), inFlight: z.number().int() }),
  rollbackOf: z.number().int().nullable(),
  /** The deployment that rolled this one back. */
  rolledBackBy: z.number().int().nullable(),
  createdBy: z.string(),
  approvedBy: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type DeploymentView = z.infer<typeof DeploymentView>;

export const DeploymentDetailView = DeploymentView.extend({ hosts: z.array(DeploymentHostView) });
export type DeploymentDetailView = z.infer<typeof DeploymentDetailView>;

/** A node's deployment settings (`PUT /api/v1/nodes/{path}/deploy-policy`), inherited below it. */
export const DeployPolicy = z.strictObject({
  /** A second person with `deploy.approve` approves each deployment before it starts. */
  requireApproval: z.boolean(),
});
export type DeployPolicy = z.infer<typeof DeployPolicy>;
