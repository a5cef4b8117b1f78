/** The only SQL of supervised processes: declarations, their tasks (read), and pushed live states. */
import { sql } from 'drizzle-orm';
import { TaskState, type ProcessLive, type TaskStateValue } from '@canopy/core';
import { rows, type Queryable } from '../db/connection.ts';

export const OWNER_KIND = 'process';
const TERMINAL = TaskState.COMPLETE;
const ints = (ids: number[]) => `{${ids.map((n) => Math.trunc(n)).join(',')}}`;

export interface SpecRow {
  nodeId: number;
  spec: Record<string, unknown>;
  desired: 'running' | 'stopped';
  generation: number;
  /** The release new tasks run (set by the last deployment that finished cleanly). */
  release: Record<string, unknown> | null;
  /** Older-generation tasks that count as current (a deployment found them on its release). */
  adopted: string[];
  updatedBy: string;
  updatedAt: string;
}

const SPEC_COLS = sql`node_id AS "nodeId", spec, desired, generation, release, adopted, updated_by AS "updatedBy", updated_at AS "updatedAt"`;

/** Every declaration (few: one per service node that runs a process). */
export async function allSpecs(q: Queryable): Promise<SpecRow[]> {
  return rows<SpecRow>(q, sql`SELECT ${SPEC_COLS} FROM process_specs ORDER BY node_id`);
}

export async function getSpec(q: Queryable, nodeId: number): Promise<SpecRow | undefined> {
  return (await rows<SpecRow>(q, sql`SELECT ${SPEC_COLS} FROM process_specs WHERE node_id = ${nodeId}`))[0];
}

/**
 * Insert or replace a node's declaration. Its release is kept unless given; its adopted tasks are
 * replaced by `adopt` when given, else kept while the generation stays and emptied by a new one.
 */
export async function putSpec(q: Queryable, r: Omit<SpecRow, 'updatedAt' | 'release' | 'adopted'> & { release?: SpecRow['release']; adopt?: string[] }): Promise<SpecRow> {
  const release = r.release === undefined ? null : JSON.stringify(r.release);
  const adopted = r.adopt === undefined
    ? sql`CASE WHEN EXCLUDED.generation = process_specs.generation THEN process_specs.adopted ELSE '{}'::text[] END`
    : sql`${`{${r.adopt.map((id) => `"${id.replace(/[^0-9a-zA-Z-]/g, '')}"`).join(',')}}`}::text[]`;
  const out = await rows<SpecRow>(q, sql`INSERT INTO process_specs (node_id, spec, desired, generation, release, updated_by)
    VALUES (${r.nodeId}, ${JSON.stringify(r.spec)}::jsonb, ${r.desired}, ${r.generation}, ${release}::jsonb, ${r.updatedBy})
    ON CONFLICT (node_id) DO UPDATE SET spec = EXCLUDED.spec, desired = EXCLUDED.desired, generation = EXCLUDED.generation,
      release = ${r.release === undefined ? sql`process_specs.release` : sql`EXCLUDED.release`}, adopted = ${adopted},
      updated_by = EXCLUDED.updated_by, updated_at = now()
    RETURNING ${SPEC_COLS}`);
  return out[0]!;
}

export async function deleteSpec(q: Queryable, nodeId: number): Promise<void> {
  await q.execute(sql`DELETE FROM process_specs WHERE node_id = ${nodeId}`);
}

export interface ProcessTaskRow {
  id: string;
  nodeId: number;
  machineId: number;
  generation: number;
  desired: TaskStateValue;
  state: TaskStateValue;
  message: string;
  error: string | null;
  /** The release's version (null: the process runs without one). */
  version: string | null;
}

const TASK_COLS = sql`id, owner_id::int AS "nodeId", machine_id AS "machineId", (spec->>'generation')::int AS generation, desired, state, message, error,
  spec->'release'->>'version' AS version`;

/** The node's unfinished process tasks. */
export async function openTasks(q: Queryable, nodeId: number): Promise<ProcessTaskRow[]> {
  return rows<ProcessTaskRow>(q, sql`SELECT ${TASK_COLS} FROM tasks
    WHERE owner_kind = ${OWNER_KIND} AND owner_id = ${nodeId} AND state < ${TERMINAL} ORDER BY created_at, id`);
}

/** Per machine, the node's newest finished process task. */
export async function endedTasks(q: Queryable, nodeId: number): Promise<ProcessTaskRow[]> {
  return rows<ProcessTaskRow>(q, sql`SELECT DISTINCT ON (machine_id) ${TASK_COLS} FROM tasks
    WHERE owner_kind = ${OWNER_KIND} AND owner_id = ${nodeId} AND state >= ${TERMINAL} ORDER BY machine_id, created_at DESC, id`);
}

/** Per (node, machine), the task to show: the newest generation still open, else the newest ended. */
export async function shownTasks(q: Queryable, nodeIds: number[]): Promise<ProcessTaskRow[]> {
  if (nodeIds.length === 0) return [];
  return rows<ProcessTaskRow>(q, sql`SELECT DISTINCT ON (owner_id, machine_id) ${TASK_COLS} FROM tasks
    WHERE owner_kind = ${OWNER_KIND} AND owner_id = ANY(${ints(nodeIds)}::bigint[])
    ORDER BY owner_id, machine_id, (state < ${TERMINAL}) DESC, (spec->>'generation')::int DESC, created_at DESC`);
}

/** Pushed states by task. */
export async function states(q: Queryable, taskIds: string[]): Promise<Map<string, { live: ProcessLive; updatedAt: string }>> {
  if (taskIds.length === 0) return new Map();
  const out = await rows<{ taskId: string; live: ProcessLive; updatedAt: string }>(q, sql`SELECT task_id AS "taskId", live, updated_at AS "updatedAt"
    FROM process_states WHERE task_id = ANY(${`{${taskIds.map((id) => `"${id.replace(/[^0-9a-zA-Z-]/g, '')}"`).join(',')}}`}::text[])`);
  return new Map(out.map((r) => [r.taskId, { live: r.live, updatedAt: r.updatedAt }]));
}

/** Of `taskIds`, those whose process runs and is healthy (or has no check), as its agent last pushed. */
export async function readiness(q: Queryable, taskIds: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const [id, { live }] of await states(q, taskIds)) if (live.state === 'running' && (live.health === 'healthy' || live.health === 'none')) out.add(id);
  return out;
}

/**
 * Store pushed states: only for process tasks of the pushing machine, and only newer than the stored
 * one; returns the task ids kept.
 */
export async function upsertStates(q: Queryable, machineId: number, items: ProcessLive[]): Promise<{ taskId: string; nodeId: number }[]> {
  if (items.length === 0) return [];
  const data = items.map((l) => ({ task_id: l.taskId, live: l, at: l.at }));
  return rows<{ taskId: string; nodeId: number }>(q, sql`INSERT INTO process_states (task_id, node_id, machine_id, live, at)
    SELECT x.task_id, t.owner_id::int, t.machine_id, x.live, x.at
    FROM jsonb_to_recordset(${JSON.stringify(data)}::jsonb) AS x(task_id text, live jsonb, at timestamptz)
    JOIN tasks t ON t.id = x.task_id AND t.machine_id = ${machineId} AND t.owner_kind = ${OWNER_KIND}
    ON CONFLICT (task_id) DO UPDATE SET live = EXCLUDED.live, at = EXCLUDED.at, updated_at = now()
      WHERE process_states.at <= EXCLUDED.at
    RETURNING task_id AS "taskId", node_id AS "nodeId"`);
}

/** Drop the states of the node's finished tasks that a newer task replaced. */
export async function pruneStates(q: Queryable, nodeId: number): Promise<void> {
  await q.execute(sql`DELETE FROM process_states s USING tasks t
    WHERE s.node_id = ${nodeId} AND t.id = s.task_id AND t.state >= ${TERMINAL}
      AND EXISTS (SELECT 1 FROM tasks n WHERE n.owner_kind = ${OWNER_KIND} AND n.owner_id = ${nodeId}
        AND n.machine_id = t.machine_id AND n.created_at > t.created_at)`);
}
