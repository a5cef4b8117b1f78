/** The only SQL of builds and build settings. */
import { sql } from 'drizzle-orm';
import type { BuildState } from '@canopy/core';
import { rows, type Queryable } from '../db/connection.ts';

export interface BuildRow {
  id: number;
  nodeId: number;
  nodePath: string;
  poolNodeId: number;
  poolPath: string;
  repo: string;
  ref: string;
  command: string;
  outputPath: string;
  env: Record<string, string>;
  runAs: string;
  timeoutSeconds: number;
  version: string | null;
  state: BuildState;
  reason: string | null;
  machineId: number | null;
  hostname: string | null;
  taskId: string | null;
  commitSha: string | null;
  artifactVersion: string | null;
  artifactSha256: string | null;
  artifactSize: number | null;
  createdBy: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Joined from the task. */
  taskState: number | null;
  exitCode: number | null;
  taskError: string | null;
  taskMessage: string | null;
}

export interface SettingsRow {
  nodeId: number;
  poolNodeId: number | null;
  maxPerMachine: number | null;
  runAs: string | null;
}

const COLUMNS = sql`b.id, b.node_id AS "nodeId", b.node_path AS "nodePath", b.pool_node_id AS "poolNodeId", b.pool_path AS "poolPath",
  b.repo, b.ref, b.command, b.output_path AS "outputPath", b.env, b.run_as AS "runAs", b.timeout_seconds AS "timeoutSeconds",
  b.version, b.state, b.reason, b.machine_id AS "machineId", b.hostname, b.task_id AS "taskId", b.commit_sha AS "commitSha",
  b.artifact_version AS "artifactVersion", b.artifact_sha256 AS "artifactSha256", b.artifact_size::float8 AS "artifactSize",
  b.created_by AS "createdBy", b.created_at AS "createdAt", b.started_at AS "startedAt", b.finished_at AS "finishedAt",
  t.state AS "taskState", t.exit_code AS "exitCode", t.error AS "taskError", t.message AS "taskMessage"`;
const FROM = sql`FROM builds b LEFT JOIN tasks t ON t.id = b.task_id`;

/** Insert a queued build. */
export async function insertBuild(
  q: Queryable,
  b: Pick<BuildRow, 'nodeId' | 'nodePath' | 'poolNodeId' | 'poolPath' | 'repo' | 'ref' | 'command' | 'outputPath' | 'env' | 'runAs' | 'timeoutSeconds' | 'version' | 'createdBy'>,
): Promise<number> {
  const [row] = await rows<{ id: number }>(q, sql`INSERT INTO builds (node_id, node_path, pool_node_id, pool_path, repo, ref, command, output_path, env, run_as, timeout_seconds, version, state, reason, created_by)
    VALUES (${b.nodeId}, ${b.nodePath}, ${b.poolNodeId}, ${b.poolPath}, ${b.repo}, ${b.ref}, ${b.command}, ${b.outputPath}, ${JSON.stringify(b.env)}::jsonb,
            ${b.runAs}, ${b.timeoutSeconds}, ${b.version}, 'queued', 'waiting for a free build slot', ${b.createdBy})
    RETURNING id`);
  return row!.id;
}

/** One build (locked for update when `lock`). */
export async function build(q: Queryable, id: number, lock = false): Promise<BuildRow | undefined> {
  const [row] = await rows<BuildRow>(q, sql`SELECT ${COLUMNS} ${FROM} WHERE b.id = ${id} ${lock ? sql`FOR UPDATE OF b` : sql``}`);
  return row;
}

/** Builds of the nodes `nodeIds` (a subtree; undefined: every build), newest first. */
export async function listBuilds(q: Queryable, opts: { nodeIds?: number[] | undefined; limit: number; before?: number | undefined }): Promise<BuildRow[]> {
  const ids = opts.nodeIds;
  return rows<BuildRow>(q, sql`SELECT ${COLUMNS} ${FROM}
    WHERE TRUE ${ids ? sql`AND b.node_id = ANY(${`{${ids.map((n) => Math.trunc(n)).join(',')}}`}::int[])` : sql``}
      ${opts.before ? sql`AND b.id < ${opts.before}` : sql``}
    ORDER BY b.id DESC LIMIT ${opts.limit}`);
}

/** Unfinished builds, oldest first, locked: the orchestrator's input. */
export async function unfinished(q: Queryable): Promise<BuildRow[]> {
  return rows<BuildRow>(q, sql`SELECT ${COLUMNS} ${FROM} WHERE b.state IN ('queued', 'running', 'cancelling') ORDER BY b.id FOR UPDATE OF b`);
}

/** Ids of unfinished builds (start-up). */
export async function unfinishedIds(q: Queryable): Promise<number[]> {
  const out = await rows<{ id: number }>(q, sql`SELECT id FROM builds WHERE state IN ('queued', 'running', 'cancelling')`);
  return out.map((r) => r.id);
}

/** Change a build's columns. */
export async function updateBuild(q: Queryable, id: number, set: Partial<Pick<BuildRow, 'state' | 'reason' | 'machineId' | 'hostname' | 'taskId' | 'commitSha' | 'artifactVersion' | 'artifactSha256' | 'artifactSize'>> & { started?: boolean; finished?: boolean }): Promise<void> {
  const parts = [];
  if (set.state !== undefined) parts.push(sql`state = ${set.state}`);
  if (set.reason !== undefined) parts.push(sql`reason = ${set.reason}`);
  if (set.machineId !== undefined) parts.push(sql`machine_id = ${set.machineId}`);
  if (set.hostname !== undefined) parts.push(sql`hostname = ${set.hostname}`);
  if (set.taskId !== undefined) parts.push(sql`task_id = ${set.taskId}`);
  if (set.commitSha !== undefined) parts.push(sql`commit_sha = ${set.commitSha}`);
  if (set.artifactVersion !== undefined) parts.push(sql`artifact_version = ${set.artifactVersion}`);
  if (set.artifactSha256 !== undefined) parts.push(sql`artifact_sha256 = ${set.artifactSha256}`);
  if (set.artifactSize !== undefined) parts.push(sql`artifact_size = ${set.artifactSize}`);
  if (set.started) parts.push(sql`started_at = now()`);
  if (set.finished) parts.push(sql`finished_at = now()`);
  if (parts.length === 0) return;
  await q.execute(sql`UPDATE builds SET ${sql.join(parts, sql`, `)} WHERE id = ${id}`);
}

/** Another unfinished or successful build of the node asking for `version`. */
export async function versionTaken(q: Queryable, nodeId: number, version: string): Promise<number | undefined> {
  const [row] = await rows<{ id: number }>(q, sql`SELECT id FROM builds WHERE node_id = ${nodeId}
    AND (version = ${version} OR artifact_version = ${version}) AND state IN ('queued', 'running', 'cancelling', 'succeeded') LIMIT 1`);
  return row?.id;
}

/** Builds running per machine. */
export async function runningPerMachine(q: Queryable): Promise<Map<number, number>> {
  const out = await rows<{ machineId: number; n: number }>(q, sql`SELECT machine_id AS "machineId", count(*)::int AS n FROM builds
    WHERE state IN ('running', 'cancelling') AND machine_id IS NOT NULL GROUP BY machine_id`);
  return new Map(out.map((r) => [r.machineId, r.n]));
}

/** Machines whose agent is connected, of `ids`. */
export async function connectedOf(q: Queryable, ids: number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const out = await rows<{ machineId: number }>(q, sql`SELECT machine_id AS "machineId" FROM agent_status
    WHERE state = 'connected' AND machine_id = ANY(${`{${ids.map((n) => Math.trunc(n)).join(',')}}`}::int[])`);
  return new Set(out.map((r) => r.machineId));
}

/** The log the task has reported so far, and how it ended up kept. */
export async function taskLog(q: Queryable, taskId: string): Promise<{ stdout: string; stdoutBytes: number; truncated: number; state: number } | undefined> {
  const [row] = await rows<{ stdout: string; stdoutBytes: number; truncated: number; state: number }>(q, sql`SELECT stdout, stdout_bytes AS "stdoutBytes",
    truncated::float8 AS truncated, state FROM tasks WHERE id = ${taskId}`);
  return row;
}

/** Every node's build settings (a small table; the orchestrator reads it whole). */
export async function allSettings(q: Queryable): Promise<SettingsRow[]> {
  return rows<SettingsRow>(q, sql`SELECT node_id AS "nodeId", pool_node_id AS "poolNodeId", max_per_machine AS "maxPerMachine", run_as AS "runAs" FROM build_settings`);
}

/** Set (or, with every field null, drop) a node's settings. */
export async function putSettings(q: Queryable, s: SettingsRow, by: string): Promise<void> {
  if (s.poolNodeId === null && s.maxPerMachine === null && s.runAs === null) {
    await q.execute(sql`DELETE FROM build_settings WHERE node_id = ${s.nodeId}`);
    return;
  }
  await q.execute(sql`INSERT INTO build_settings (node_id, pool_node_id, max_per_machine, run_as, updated_by)
    VALUES (${s.nodeId}, ${s.poolNodeId}, ${s.maxPerMachine}, ${s.runAs}, ${by})
    ON CONFLICT (node_id) DO UPDATE SET pool_node_id = EXCLUDED.pool_node_id, max_per_machine = EXCLUDED.max_per_machine,
      run_as = EXCLUDED.run_as, updated_by = EXCLUDED.updated_by, updated_at = now()`);
}
