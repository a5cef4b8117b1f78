/**
 * The agent session's messages (one WebSocket per agent, JSON text frames). The control center
 * sends desired state (the machine's task set, then changes to it); the agent sends heartbeats and
 * batched status reports, each report numbered so the control center can acknowledge it and the
 * agent can resend what was not acknowledged after a reconnect. Reports are idempotent: the control
 * center keeps a status only when it moves the task forward.
 */
import { z } from 'zod';
import { TASK_STATE_NAMES, TaskState, type TaskStateValue } from './states.ts';

/** The path agents connect to, under the API prefix. */
export const AGENT_SESSION_PATH = '/api/v1/agent/session';
/** Protocol version; the control center refuses agents speaking another. */
export const AGENT_PROTOCOL = 1;

const StateValue = z
  .number()
  .int()
  .refine((v) => TASK_STATE_NAMES.some((n) => TaskState[n] === v), 'must be a task state value') as unknown as z.ZodType<TaskStateValue>;

/** Facts the agent reads off its machine. */
export const MachineFacts = z.object({
  hostname: z.string().max(253),
  ips: z.array(z.string().max(64)).max(256),
  cpus: z.number().int().min(0),
  memoryBytes: z.number().min(0),
  disks: z.array(z.object({ mount: z.string().max(4096), sizeBytes: z.number().min(0) })).max(256),
  os: z.string().max(200),
  kernel: z.string().max(200),
  serial: z.string().max(200).nullable(),
  macs: z.array(z.string().max(64)).max(256),
  bootId: z.string().max(64).nullable(),
  bootedAt: z.string().max(40).nullable(),
});
export type MachineFacts = z.infer<typeof MachineFacts>;

/** One task's status change, as the agent reports it. */
export const TaskReport = z.strictObject({
  taskId: z.string().max(64),
  state: StateValue,
  message: z.string().max(2000),
  error: z.string().max(8000).optional(),
  exitCode: z.number().int().optional(),
  /** When the agent observed it (ISO 8601). */
  at: z.string().max(40),
  /**
   * Output. In a report of a terminal state: the whole output as kept (head, a marker, tail). In any
   * other: a live chunk starting at byte `stdoutAt`/`stderrAt` of the stream, so a chunk sent twice
   * (after a reconnect) is recognised and dropped.
   */
  stdout: z.string().max(16 * 1024 * 1024).optional(),
  stderr: z.string().max(16 * 1024 * 1024).optional(),
  stdoutAt: z.number().int().min(0).optional(),
  stderrAt: z.number().int().min(0).optional(),
  /** Bytes dropped from the middle of the output to keep its head and tail (terminal reports). */
  truncated: z.number().int().min(0).optional(),
});
export type TaskReport = z.infer<typeof TaskReport>;

/** A stream or document name: `metrics`, `ssh`, `cron.runs`. */
export const StreamName = z.string().regex(/^[a-z][a-z0-9.-]{0,63}$/, 'must be a stream name (lower-case letters, digits, "." and "-")');

/** Agent → control center. */
export const AgentMessage = z.discriminatedUnion('t', [
  z.strictObject({
    t: z.literal('hello'),
    protocol: z.number().int(),
    agentVersion: z.string().max(64),
    facts: MachineFacts,
    /** Tasks the agent holds, with their last state: the control center resumes from these. */
    tasks: z.array(z.strictObject({ taskId: z.string().max(64), state: StateValue })).max(100_000),
  }),
  z.strictObject({ t: z.literal('heartbeat') }),
  z.strictObject({ t: z.literal('report'), seq: z.number().int().min(1), reports: z.array(TaskReport).min(1).max(10_000) }),
  z.strictObject({ t: z.literal('facts'), facts: MachineFacts }),
  /** Data for a capability (metrics, access counts, login events…), acknowledged by `pushed`. */
  z.strictObject({ t: z.literal('push'), seq: z.number().int().min(1), stream: StreamName, data: z.unknown() }),
  /** Data of a live stream the control center subscribed to (`done`: the stream ended). */
  z.strictObject({ t: z.literal('publish'), sub: z.string().max(64), data: z.unknown(), done: z.boolean().optional() }),
]);
export type AgentMessage = z.infer<typeof AgentMessage>;

/** A task as the agent receives it. */
export interface TaskAssignment {
  taskId: string;
  kind: string;
  spec: unknown;
  desired: TaskStateValue;
}

/** Control center → agent. */
export type ControlMessage =
  | { t: 'welcome'; sessionId: string; hostname: string; heartbeatMs: number }
  /** `full`: this is the whole set (anything else the agent holds is not wanted any more). */
  | { t: 'assign'; full: boolean; tasks: TaskAssignment[]; removed: string[] }
  | { t: 'ack'; seq: number }
  /** The machine's document `name` (desired state that is not a task); `null`: it has none. */
  | { t: 'doc'; name: string; data: unknown }
  /** The push `seq` was taken (or refused, with `error`). */
  | { t: 'pushed'; seq: number; error?: string }
  /** Start a live stream (`params` are the stream's own); the agent answers with `publish`. */
  | { t: 'subscribe'; sub: string; stream: string; params: unknown }
  | { t: 'unsubscribe'; sub: string }
  | { t: 'close'; reason: string };
