/** The only SQL of deployments: the deployments, their hosts, node policies, and the tasks they read. */
import { sql } from 'drizzle-orm';
import type { DeployHostState, DeployState, DeployStrategy, ProcessRelease, TaskStateValue } from '@canopy/core';
import { rows, type Queryable } from '../db/connection.ts';

export const ACTIVE_STATES: readonly DeployState[] = ['awaiting-approval', 'staging', 'running', 'paused', 'stopping'];

export interface DeploymentRow {
  id: number;
  nodeId: number;
  version: string;
  previousVersion: string | null;
  release: ProcessRelease;
  strategy: DeployStrategy;
  generation: number;
  state: DeployState;
  reason: string | null;
  note: string | null;
  batches: number[];
  currentBatch: number;
  batchUpAt: string | null;
  canaryPassed: boolean;
  rollbackOf: number | null;
  holds: boolean;
  createdBy: string;
  approvedBy: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

const COLS = sql`id, node_id AS "nodeId", version, previous_version AS "previousVersion", release, strategy, generation, state, reason, note,
  batches, current_batch AS "currentBatch", batch_up_at AS "batchUpAt", canary_passed AS "canaryPassed", rollback_of AS "rollbackOf", holds,
  created_by AS "createdBy", approved_by AS "approvedBy", created_at AS "createdAt", updated_at AS "updatedAt", finished_at AS "finishedAt"`;
const active = sql.raw(`(${ACTIVE_STATES.map((s) => `'${s}'`).join(', ')})`);

export async function get(q: Queryable, id: number): Promise<DeploymentRow | undefined> {
  return (await rows<DeploymentRow>(q, sql`SELECT ${COLS} FROM deployments WHERE id = ${id}`))[0];
}

/** Deployments newest first, of one node or all, before `beforeId`. */
export async function list(q: Queryable, nodeIds: number[] | undefined, limit: number, beforeId: number | undefined): Promise<DeploymentRow[]> {
  const nodes = nodeIds === undefined ? sql`` : sql`AND node_id = ANY(${`{${nodeIds.map(Math.trunc).join(',')}}`}::int[])`;
  const before = beforeId === undefined ? sql`` : sql`AND id < ${beforeId}`;
  return rows<DeploymentRow>(q, sql`SELECT ${COLS} FROM deployments WHERE true ${nodes} ${before} ORDER BY id DESC LIMIT ${limit}`);
}

export async function activeIds(q: Queryable): Promise<{ id: number; nodeId: number }[]> {
  return rows(q, sql`SELECT id, node_id AS "nodeId" FROM deployments WHERE state IN ${active}`);
}

export async function activeFor(q: Queryable, nodeId: number): Promise<DeploymentRow | undefined> {
  return (await rows<DeploymentRow>(q, sql`SELECT ${COLS} FROM deployments WHERE node_id = ${nodeId} AND state IN ${active}`))[0];
}

/** The node's newest deployment, if it still owns the node's process tasks. */
export async function holder(q: Queryable, nodeId: number): Promise<{ id: number; state: DeployState } | undefined> {
  const r = await rows<{ id: number; state: DeployState; holds: boolean }>(q, sql`SELECT id, state, holds FROM deployments WHERE node_id = ${nodeId} ORDER BY id DESC LIMIT 1`);
  return r[0]?.holds ? { id: r[0].id, state: r[0].state } : undefined;
}

export type NewDeployment = Pick<DeploymentRow, 'nodeId' | 'version' | 'previousVersion' | 'release' | 'strategy' | 'generation' | 'state' | 'note' | 'batches' | 'rollbackOf' | 'createdBy'>;

export async function insert(q: Queryable, d: NewDeployment): Promise<DeploymentRow> {
  await q.execute(sql`UPDATE deployments SET holds = false WHERE node_id = ${d.nodeId} AND holds`);
  const out = await rows<DeploymentRow>(q, sql`INSERT INTO deployments (node_id, version, previous_version, release, strategy, generation, state, note, batches, rollback_of, created_by)
    VALUES (${d.nodeId}, ${d.version}, ${d.previousVersion}, ${JSON.stringify(d.release)}::jsonb, ${JSON.stringify(d.strategy)}::jsonb, ${d.generation}, ${d.state},
      ${d.note}, ${JSON.stringify(d.batches)}::jsonb, ${d.rollbackOf}, ${d.createdBy})
    RETURNING ${COLS}`);
  return out[0]!;
}

export interface DeploymentChange {
  state?: DeployState | undefined;
  reason?: string | null | undefined;
  currentBatch?: number | undefined;
  batchUpAt?: number | null | undefined;
  canaryPassed?: boolean | undefined;
  finished?: boolean | undefined;
  holds?: boolean | undefined;
  approvedBy?: string | undefined;
}

export async function update(q: Queryable, id: number, c: DeploymentChange): Promise<void> {
  const sets = [sql`updated_at = now()`];
  if (c.state !== undefined) sets.push(sql`state = ${c.state}`);
  if (c.reason !== undefined) sets.push(sql`reason = ${c.reason}`);
  if (c.currentBatch !== undefined) sets.push(sql`current_batch = ${c.currentBatch}`);
  if (c.batchUpAt !== undefined) sets.push(sql`batch_up_at = ${c.batchUpAt === null ? null : new Date(c.batchUpAt).toISOString()}::timestamptz`);
  if (c.canaryPassed !== undefined) sets.push(sql`canary_passed = ${c.canaryPassed}`);
  if (c.finished) sets.push(sql`finished_at = now()`);
  if (c.holds !== undefined) sets.push(sql`holds = ${c.holds}`);
  if (c.approvedBy !== undefined) sets.push(sql`approved_by = ${c.approvedBy}`);
  await q.execute(sql`UPDATE deployments SET ${sql.join(sets, sql`, `)} WHERE id = ${id}`);
}

export interface HostRow {
  machineId: number;
  batch: number;
  state: DeployHostState;
  reason: string | null;
  fromVersion: string | null;
  oldTasks: string[];
  newTask: string | null;
  since: string;
}

const HOST_COLS = sql`machine_id AS "machineId", batch, state, reason, from_version AS "fromVersion", old_tasks AS "oldTasks", new_task AS "newTask", since`;

export async function hosts(q: Queryable, deploymentId: number): Promise<HostRow[]> {
  return rows<HostRow>(q, sql`SELECT ${HOST_COLS} FROM deployment_hosts WHERE deployment_id = ${deploymentId} ORDER BY batch, machine_id`);
}

export async function insertHosts(q: Queryable, deploymentId: number, hs: Omit<HostRow, 'since' | 'newTask' | 'reason'>[]): Promise<void> {
  if (hs.length === 0) return;
  const data = hs.map((h) => ({ machine_id: h.machineId, batch: h.batch, state: h.state, from_version: h.fromVersion, old_tasks: h.oldTasks }));
  await q.execute(sql`INSERT INTO deployment_hosts (deployment_id, machine_id, batch, state, from_version, old_tasks)
    SELECT ${deploymentId}, x.machine_id, x.batch, x.state, x.from_version, x.old_tasks
    FROM jsonb_to_recordset(${JSON.stringify(data)}::jsonb) AS x(machine_id int, batch int, state text, from_version text, old_tasks jsonb)`);
}

export interface HostChange {
  machineId: number;
  state: DeployHostState;
  reason?: string | null | undefined;
  /** Set when given; kept otherwise. */
  newTask?: string | undefined;
}

/**
 * Hosts' new states in one statement (a batch of 100 is one round trip, not 100). A host changed
 * twice ends as the later change says, as if they were applied one by one: an UPDATE joining two
 * rows for one host would pick either.
 */
export async function updateHosts(q: Queryable, deploymentId: number, cs: HostChange[]): Promise<void> {
  if (cs.length === 0) return;
  const last = new Map<number, HostChange>();
  for (const c of cs) last.set(c.machineId, { ...last.get(c.machineId), ...c, reason: c.reason });
  const data = [...last.values()].map((c) => ({ machine_id: c.machineId, state: c.state, reason: c.reason ?? null, new_task: c.newTask ?? null }));
  await q.execute(sql`UPDATE deployment_hosts h SET state = x.state, since = now(), reason = x.reason, new_task = COALESCE(x.new_task, h.new_task)
    FROM jsonb_to_recordset(${JSON.stringify(data)}::jsonb) AS x(machine_id int, state text, reason text, new_task text)
    WHERE h.deployment_id = ${deploymentId} AND h.machine_id = x.machine_id`);
}

export interface TaskRow {
  id: string;
  machineId: number;
  state: TaskStateValue;
  desired: TaskStateValue;
  generation: number;
  version: string | null;
  message: string;
  error: string | null;
}

/** Tasks by id, with the process fields a deployment reads. */
export async function tasks(q: Queryable, ids: string[]): Promise<Map<string, TaskRow>> {
  if (ids.length === 0) return new Map();
  const out = await rows<TaskRow>(q, sql`SELECT id, machine_id AS "machineId", state, desired, (spec->>'generation')::int AS generation,
    spec->'release'->>'version' AS version, message, error
    FROM tasks WHERE id = ANY(${`{${ids.map((id) => `"${id.replace(/[^0-9a-zA-Z-]/g, '')}"`).join(',')}}`}::text[])`);
  return new Map(out.map((r) => [r.id, r]));
}

/** A task's captured output (the host's log: staging progress, hooks). */
export async function taskOutput(q: Queryable, id: string): Promise<{ stdout: string; stderr: string } | undefined> {
  return (await rows<{ stdout: string; stderr: string }>(q, sql`SELECT stdout, stderr FROM tasks WHERE id = ${id}`))[0];
}

/** Where the node's policy comes from: the nearest of `nodeIds` (the node, then its ancestors) that sets one. */
export async function policies(q: Queryable, nodeIds: number[]): Promise<Map<number, boolean>> {
  if (nodeIds.length === 0) return new Map();
  const out = await rows<{ nodeId: number; requireApproval: boolean }>(q, sql`SELECT node_id AS "nodeId", require_approval AS "requireApproval"
    FROM deploy_policies WHERE node_id = ANY(${`{${nodeIds.map(Math.trunc).join(',')}}`}::int[])`);
  return new Map(out.map((r) => [r.nodeId, r.requireApproval]));
}

export async function putPolicy(q: Queryable, nodeId: number, requireApproval: boolean | null, by: string): Promise<void> {
  if (requireApproval === null) await q.execute(sql`DELETE FROM deploy_policies WHERE node_id = ${nodeId}`);
  else {
    await q.execute(sql`INSERT INTO deploy_policies (node_id, require_approval, updated_by) VALUES (${nodeId}, ${requireApproval}, ${by})
      ON CONFLICT (node_id) DO UPDATE SET require_approval = EXCLUDED.require_approval, updated_by = EXCLUDED.updated_by, updated_at = now()`);
  }
}

export interface Progress {
  total: number;
  updated: number;
  failed: number;
  inFlight: number;
}

/** Hosts by state per deployment, for progress bars in lists. */
export async function progress(q: Queryable, ids: number[]): Promise<Map<number, Progress>> {
  if (ids.length === 0) return new Map();
  const out = await rows<{ id: number } & Progress>(q, sql`SELECT deployment_id AS id, count(*)::int AS total,
      (count(*) FILTER (WHERE state = 'updated'))::int AS updated, (count(*) FILTER (WHERE state = 'failed'))::int AS failed,
      (count(*) FILTER (WHERE state IN ('stopping-old', 'starting', 'retiring-old')))::int AS "inFlight"
    FROM deployment_hosts WHERE deployment_id = ANY(${`{${ids.map(Math.trunc).join(',')}}`}::int[]) GROUP BY deployment_id`);
  return new Map(out.map(({ id, ...p }) => [id, p]));
}
