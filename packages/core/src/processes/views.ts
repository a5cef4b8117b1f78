/** The live state of a supervised process (pushed by the agent) and the views the API answers. */
import { z } from 'zod';
import { Hostname, NodePath, Timestamp } from '../schemas/common.ts';

export const PROCESS_STATES = ['starting', 'running', 'backoff', 'draining', 'stopping', 'stopped', 'exited', 'flapping', 'fatal'] as const;
export type ProcessStateName = (typeof PROCESS_STATES)[number];
export const PROCESS_HEALTH = ['none', 'unknown', 'healthy', 'unhealthy'] as const;

/** One process as its agent sees it. */
export const ProcessLive = z.strictObject({
  taskId: z.string().min(1).max(64),
  nodeId: z.number().int().min(1),
  generation: z.number().int().min(1),
  state: z.enum(PROCESS_STATES),
  pid: z.number().int().min(1).nullable(),
  /** When the current run started (ISO). */
  startedAt: Timestamp.nullable(),
  /** Restarts since the task began (not counting the first start). */
  restarts: z.number().int().min(0),
  health: z.enum(PROCESS_HEALTH),
  lastExit: z.strictObject({ code: z.number().int().nullable(), at: Timestamp }).nullable(),
  message: z.string().max(2000),
  /** When the agent produced this state (ISO), so an older push never replaces a newer one. */
  at: Timestamp,
});
export type ProcessLive = z.infer<typeof ProcessLive>;

/** What the agent pushes on the `processes` stream: the states that changed, or all it has (`full`). */
export const ProcessPush = z.strictObject({
  full: z.boolean().default(false),
  items: z.array(ProcessLive).max(1000),
});
export type ProcessPush = z.infer<typeof ProcessPush>;

/** A row of `GET /nodes/{path}/processes`: one machine of one node declaring a process. */
export interface ProcessView {
  node: string;
  hostname: string;
  taskId: string | null;
  /** The task's lifecycle state (RUNNING while supervised). */
  task: string | null;
  generation: number | null;
  state: ProcessStateName | 'pending' | 'unknown';
  pid: number | null;
  startedAt: string | null;
  uptimeSeconds: number | null;
  restarts: number;
  health: (typeof PROCESS_HEALTH)[number];
  flapping: boolean;
  lastExit: { code: number | null; at: string } | null;
  message: string;
  agent: string;
  updatedAt: string | null;
}

/** `GET /nodes/{path}/process`: a node's declaration. */
export interface ProcessDeclarationView {
  node: string;
  spec: unknown;
  desired: 'running' | 'stopped';
  generation: number;
  updatedAt: string;
}

export const ProcessLogQuery = z.strictObject({
  host: Hostname,
  node: NodePath.optional(),
  stream: z.enum(['stdout', 'stderr']).default('stdout'),
  lines: z.coerce.number().int().min(0).max(10_000).default(100),
  follow: z.enum(['true', 'false', '1', '0']).optional(),
});
export type ProcessLogQuery = z.infer<typeof ProcessLogQuery>;

/** What the agent's `process.log` stream takes. */
export const ProcessLogParams = z.strictObject({
  nodeId: z.number().int().min(1),
  stream: z.enum(['stdout', 'stderr']),
  lines: z.number().int().min(0).max(10_000),
  follow: z.boolean(),
});
export type ProcessLogParams = z.infer<typeof ProcessLogParams>;
