/** The only SQL of tasks and agent status. */
import { sql } from 'drizzle-orm';
import { TaskState, type TaskReport, type TaskStateValue } from '@canopy/core';
import { rows, type Queryable } from '../db/connection.ts';

export interface TaskRow {
  id: string;
  machineId: number;
  kind: string;
  spec: unknown;
  desired: TaskStateValue;
  state: TaskStateValue;
}

const TERMINAL = TaskState.COMPLETE;
// Arrays travel as PostgreSQL array literals: ids are integers or UUIDs we made, nothing to quote.
const ints = (ids: number[]) => `{${ids.map((n) => Math.trunc(n)).join(',')}}`;
const uuids = (ids: string[]) => `{${ids.filter((id) => /^[0-9a-f-]{36}$/.test(id)).join(',')}}`;

/** Insert tasks (ids chosen by the caller). */
export async function insertTasks(q: Queryable, tasks: (Omit<TaskRow, 'state'> & { ownerKind: string | null; ownerId: number | null })[]): Promise<void> {
  if (tasks.length === 0) return;
  // created_at is when the row was written (not the transaction's start, which may have waited for the write lock).
  await q.execute(sql`INSERT INTO tasks (id, machine_id, kind, spec, desired, owner_kind, owner_id, created_at)
    SELECT x.id, x.machine_id, x.kind, x.spec, x.desired, x.owner_kind, x.owner_id, clock_timestamp()
    FROM jsonb_to_recordset(${JSON.stringify(tasks.map((t) => ({ id: t.id, machine_id: t.machineId, kind: t.kind, spec: t.spec, desired: t.desired, owner_kind: t.ownerKind, owner_id: t.ownerId })))}::jsonb)
      AS x(id text, machine_id integer, kind text, spec jsonb, desired smallint, owner_kind text, owner_id bigint)`);
}

/** The unfinished tasks of many machines at once (sessions greeted together). */
export async function openTasksOf(q: Queryable, machineIds: number[]): Promise<TaskRow[]> {
  if (machineIds.length === 0) return [];
  return rows<TaskRow>(q, sql`SELECT id, machine_id AS "machineId", kind, spec, desired, state FROM tasks
    WHERE machine_id = ANY(${ints(machineIds)}::int[]) AND state < ${TERMINAL} ORDER BY created_at, id`);
}

/** Tasks by id (for pushing changes of desired state). */
export async function tasksById(q: Queryable, ids: string[]): Promise<TaskRow[]> {
  if (ids.length === 0) return [];
  return rows<TaskRow>(q, sql`SELECT id, machine_id AS "machineId", kind, spec, desired, state FROM tasks
    WHERE id = ANY(${uuids(ids)}::text[])`);
}

/** Set the desired state of tasks still unfinished; returns those changed. */
export async function setDesired(q: Queryable, ids: string[], desired: TaskStateValue): Promise<TaskRow[]> {
  if (ids.length === 0) return [];
  return rows<TaskRow>(q, sql`UPDATE tasks SET desired = ${desired}, updated_at = now()
    WHERE id = ANY(${uuids(ids)}::text[]) AND state < ${TERMINAL} AND desired <> ${desired}
    RETURNING id, machine_id AS "machineId", kind, spec, desired, state`);
}

export interface AppliedReport {
  id: string;
  machineId: number;
  state: TaskStateValue;
  ownerKind: string | null;
  ownerId: number | null;
}

// A live chunk at byte `at` overlapping the stored output's end adds only the bytes beyond it
// (stored ends fall on character boundaries of the same file, so the cut is one too).
const overlaps = (c: 'stdout' | 'stderr') =>
  sql.raw(`x.${c}_at IS NOT NULL AND x.${c}_at <= t.${c}_bytes AND x.${c}_at + octet_length(x.${c}) > t.${c}_bytes`);
const appended = (c: 'stdout' | 'stderr') => sql`CASE
        WHEN x.state >= ${TERMINAL} AND ${sql.raw(`x.${c}`)} IS NOT NULL THEN ${sql.raw(`x.${c}`)}
        WHEN ${overlaps(c)} THEN ${sql.raw(`t.${c} || convert_from(substring(convert_to(x.${c}, 'UTF8') FROM t.${c}_bytes - x.${c}_at + 1), 'UTF8')`)}
        ELSE ${sql.raw(`t.${c}`)} END`;
const appendedBytes = (c: 'stdout' | 'stderr') => sql`CASE
        WHEN x.state >= ${TERMINAL} AND ${sql.raw(`x.${c}`)} IS NOT NULL THEN ${sql.raw(`octet_length(x.${c})`)}
        WHEN ${overlaps(c)} THEN ${sql.raw(`x.${c}_at + octet_length(x.${c})`)}
        ELSE ${sql.raw(`t.${c}_bytes`)} END`;

/**
 * Apply agents' reports in one statement: a task takes a report's state only when it moves it
 * forward and the task belongs to the reporting machine; a live output chunk is appended only when
 * it reaches past where the stored output ends (the part beyond is kept: an agent restarted
 * mid-task sends its files again from the start); a terminal report's output replaces the live one.
 */
export async function applyReports(q: Queryable, reports: { machineId: number; r: TaskReport }[]): Promise<AppliedReport[]> {
  if (reports.length === 0) return [];
  const data = reports.map(({ machineId, r }) => ({
    id: r.taskId,
    machine_id: machineId,
    state: r.state,
    message: r.message,
    error: r.error ?? null,
    exit_code: r.exitCode ?? null,
    stdout: r.stdout ?? null,
    stderr: r.stderr ?? null,
    stdout_at: r.stdoutAt ?? null,
    stderr_at: r.stderrAt ?? null,
    truncated: r.truncated ?? 0,
  }));
  return rows<AppliedReport>(q, sql`
    UPDATE tasks t SET
      state = GREATEST(t.state, x.state),
      message = CASE WHEN x.state > t.state THEN x.message ELSE t.message END,
      error = CASE WHEN x.state > t.state THEN x.error ELSE t.error END,
      exit_code = CASE WHEN x.state > t.state THEN x.exit_code ELSE t.exit_code END,
      started_at = CASE WHEN t.started_at IS NULL AND x.state >= ${TaskState.RUNNING} THEN now() ELSE t.started_at END,
      finished_at = CASE WHEN x.state >= ${TERMINAL} AND x.state > t.state THEN now() ELSE t.finished_at END,
      stdout = ${appended('stdout')},
      stdout_bytes = ${appendedBytes('stdout')},
      stderr = ${appended('stderr')},
      stderr_bytes = ${appendedBytes('stderr')},
      truncated = CASE WHEN x.state >= ${TERMINAL} THEN x.truncated ELSE t.truncated END,
      updated_at = now()
    FROM jsonb_to_recordset(${JSON.stringify(data)}::jsonb)
      AS x(id text, machine_id integer, state smallint, message text, error text, exit_code integer,
           stdout text, stderr text, stdout_at integer, stderr_at integer, truncated bigint)
    WHERE t.id = x.id AND t.machine_id = x.machine_id AND t.state < ${TERMINAL}
    RETURNING t.id, t.machine_id AS "machineId", t.state, t.owner_kind AS "ownerKind", t.owner_id AS "ownerId"`);
}

// A reboot task expects its agent to go away: it is orphaned only after `rebootSeconds`. A
// supervised process is never orphaned: its app keeps running on the machine while the agent is
// away, and the returning agent must find its task still wanted.
const orphanable = (seconds: number, rebootSeconds: number) =>
  sql`(t.kind <> 'process' AND (t.kind <> 'reboot' OR s.changed_at < now() - ${Math.max(seconds, rebootSeconds)} * interval '1 second'))`;

/** Mark the unfinished tasks of `machineIds` ORPHANED (reboots only past `rebootSeconds`); returns them. */
export async function orphanTasks(q: Queryable, machineIds: number[], rebootSeconds = 0): Promise<AppliedReport[]> {
  if (machineIds.length === 0) return [];
  return rows<AppliedReport>(q, sql`UPDATE tasks SET state = ${TaskState.ORPHANED}, message = 'orphaned: the agent stayed away',
      finished_at = now(), updated_at = now()
    WHERE machine_id = ANY(${ints(machineIds)}::int[]) AND state < ${TERMINAL}
      AND EXISTS (SELECT 1 FROM tasks t JOIN agent_status s ON s.machine_id = t.machine_id WHERE t.id = tasks.id AND ${orphanable(0, rebootSeconds)})
    RETURNING id, machine_id AS "machineId", state, owner_kind AS "ownerKind", owner_id AS "ownerId"`);
}

export interface AgentStatusRow {
  machineId: number;
  state: 'connected' | 'unreachable' | 'disconnected';
  agentVersion: string;
  facts: unknown;
  connectedAt: string | null;
  lastHeartbeatAt: string | null;
}

/** Record many agents connected to `replica` in one statement (one row per machine). */
export async function agentsConnected(q: Queryable, agents: { machineId: number; version: string; facts: unknown }[], replica: string): Promise<void> {
  if (agents.length === 0) return;
  const data = agents.map((a) => ({ machine_id: a.machineId, agent_version: a.version, facts: a.facts }));
  await q.execute(sql`INSERT INTO agent_status (machine_id, state, agent_version, facts, replica, connected_at, last_heartbeat_at, changed_at)
    SELECT x.machine_id, 'connected', x.agent_version, x.facts, ${replica}, now(), now(), now()
    FROM jsonb_to_recordset(${JSON.stringify(data)}::jsonb) AS x(machine_id integer, agent_version text, facts jsonb)
    ON CONFLICT (machine_id) DO UPDATE SET state = 'connected', agent_version = EXCLUDED.agent_version, facts = EXCLUDED.facts,
      replica = EXCLUDED.replica, connected_at = now(), last_heartbeat_at = now(), changed_at = now()`);
}

/** Store newer facts. */
export async function agentFacts(q: Queryable, machineId: number, facts: unknown): Promise<void> {
  await q.execute(sql`UPDATE agent_status SET facts = ${JSON.stringify(facts)}::jsonb WHERE machine_id = ${machineId}`);
}

/** Heartbeats of many agents at once. */
export async function agentBeats(q: Queryable, machineIds: number[]): Promise<void> {
  if (machineIds.length === 0) return;
  await q.execute(sql`UPDATE agent_status SET last_heartbeat_at = now() WHERE machine_id = ANY(${ints(machineIds)}::int[])`);
}

/** Set agents' state; returns those whose state changed. */
export async function agentState(q: Queryable, machineIds: number[], state: AgentStatusRow['state']): Promise<number[]> {
  if (machineIds.length === 0) return [];
  const out = await rows<{ machineId: number }>(q, sql`UPDATE agent_status SET state = ${state}, changed_at = now()
    WHERE machine_id = ANY(${ints(machineIds)}::int[]) AND state <> ${state} RETURNING machine_id AS "machineId"`);
  return out.map((r) => r.machineId);
}

/** Connected agents whose last heartbeat is older than `seconds`. */
export async function silentAgents(q: Queryable, seconds: number): Promise<number[]> {
  const out = await rows<{ machineId: number }>(q, sql`SELECT machine_id AS "machineId" FROM agent_status
    WHERE state = 'connected' AND last_heartbeat_at < now() - ${seconds} * interval '1 second'`);
  return out.map((r) => r.machineId);
}

/** Unreachable agents whose machines still have unfinished tasks past the grace (reboots: past `rebootSeconds`). */
export async function orphanCandidates(q: Queryable, seconds: number, rebootSeconds = 0): Promise<number[]> {
  const out = await rows<{ machineId: number }>(q, sql`SELECT s.machine_id AS "machineId" FROM agent_status s
    WHERE s.state <> 'connected' AND s.changed_at < now() - ${seconds} * interval '1 second'
      AND EXISTS (SELECT 1 FROM tasks t WHERE t.machine_id = s.machine_id AND t.state < ${TERMINAL} AND ${orphanable(seconds, rebootSeconds)})`);
  return out.map((r) => r.machineId);
}

/** Every agent's status. */
export async function agentStatuses(q: Queryable, machineIds?: number[]): Promise<AgentStatusRow[]> {
  return rows<AgentStatusRow>(q, sql`SELECT machine_id AS "machineId", state, agent_version AS "agentVersion", facts,
      connected_at AS "connectedAt", last_heartbeat_at AS "lastHeartbeatAt" FROM agent_status
    ${machineIds ? sql`WHERE machine_id = ANY(${ints(machineIds)}::int[])` : sql``} ORDER BY machine_id`);
}
