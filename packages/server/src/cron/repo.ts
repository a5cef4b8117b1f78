/** The only SQL of cron: entries per node and the runs the agents report. */
import { sql, type SQL } from 'drizzle-orm';
import type { CronRunReport, CronSpec } from '@canopy/core';
import { rows, type Queryable } from '../db/connection.ts';

export interface CronEntryRow {
  nodeId: number;
  name: string;
  spec: CronSpec | null;
  updatedBy: string;
  updatedAt: string;
}

const ENTRY = sql`node_id AS "nodeId", name, spec, updated_by AS "updatedBy", updated_at AS "updatedAt"`;

/** Every node's own entries (the read model's snapshot). */
export function allEntries(q: Queryable): Promise<CronEntryRow[]> {
  return rows<CronEntryRow>(q, sql`SELECT ${ENTRY} FROM cron_entries ORDER BY node_id, name`);
}

/** One node's entry `name`, locked. */
export async function entryOf(q: Queryable, nodeId: number, name: string): Promise<CronEntryRow | undefined> {
  const [row] = await rows<CronEntryRow>(q, sql`SELECT ${ENTRY} FROM cron_entries WHERE node_id = ${nodeId} AND name = ${name} FOR UPDATE`);
  return row;
}

/** Set a node's entry (spec null: a mask disabling the inherited one). */
export async function putEntry(q: Queryable, nodeId: number, name: string, spec: CronSpec | null, by: string): Promise<CronEntryRow> {
  const [row] = await rows<CronEntryRow>(q, sql`INSERT INTO cron_entries (node_id, name, spec, updated_by, updated_at)
    VALUES (${nodeId}, ${name}, ${spec === null ? null : JSON.stringify(spec)}::jsonb, ${by}, now())
    ON CONFLICT (node_id, name) DO UPDATE SET spec = EXCLUDED.spec, updated_by = EXCLUDED.updated_by, updated_at = now()
    RETURNING ${ENTRY}`);
  return row!;
}

/** Remove a node's entry; false when it had none. */
export async function deleteEntry(q: Queryable, nodeId: number, name: string): Promise<boolean> {
  return (await rows(q, sql`DELETE FROM cron_entries WHERE node_id = ${nodeId} AND name = ${name} RETURNING name`)).length > 0;
}

export interface CronRunRow {
  id: string;
  machineId: number;
  name: string;
  sourcePath: string;
  state: CronRunReport['state'];
  scheduledAt: string;
  startedAt: string | null;
  endedAt: string | null;
  exitCode: number | null;
  reason: string | null;
  stdout: string;
  stderr: string;
  truncated: number;
}

const RUN_SUMMARY = sql`id, machine_id AS "machineId", name, source_path AS "sourcePath", state, scheduled_at AS "scheduledAt",
  started_at AS "startedAt", ended_at AS "endedAt", exit_code AS "exitCode", reason,
  right(CASE WHEN stdout <> '' THEN rtrim(stdout, E'\\n') ELSE rtrim(stderr, E'\\n') END, 400) AS "stdout", '' AS "stderr", truncated::float8 AS truncated`;
const RUN_FULL = sql`id, machine_id AS "machineId", name, source_path AS "sourcePath", state, scheduled_at AS "scheduledAt",
  started_at AS "startedAt", ended_at AS "endedAt", exit_code AS "exitCode", reason, stdout, stderr, truncated::float8 AS truncated`;

/**
 * Write reported runs, one row per id: a new id is added, a known one updated only while it is
 * still `running` and only by its own machine (a final state is final; a resend changes nothing).
 */
export async function upsertRuns(q: Queryable, runs: { machineId: number; run: CronRunReport }[]): Promise<void> {
  const values = runs.map(({ machineId, run: r }) => sql`(${r.id}::uuid, ${machineId}::int, ${r.name}, ${r.key}, ${r.node}, ${r.state}, ${r.scheduledAt}::timestamptz,
    ${r.startedAt}::timestamptz, ${r.endedAt}::timestamptz, ${r.exitCode}::int, ${r.reason}, ${r.stdout}, ${r.stderr}, ${r.truncated}::bigint)`);
  await q.execute(sql`INSERT INTO cron_runs AS c (id, machine_id, name, entry_key, source_path, state, scheduled_at, started_at, ended_at, exit_code, reason, stdout, stderr, truncated)
    VALUES ${sql.join(values, sql`, `)}
    ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at, exit_code = EXCLUDED.exit_code,
      reason = EXCLUDED.reason, stdout = EXCLUDED.stdout, stderr = EXCLUDED.stderr, truncated = EXCLUDED.truncated, received_at = now()
    WHERE c.state = 'running' AND c.machine_id = EXCLUDED.machine_id`);
}

/** Keep the newest `keep` runs of each (machine, name) among `pairs`. */
export async function pruneRuns(q: Queryable, pairs: { machineId: number; name: string }[], keep: number): Promise<void> {
  if (pairs.length === 0) return;
  const list = sql.join(pairs.map((p) => sql`(${p.machineId}::int, ${p.name})`), sql`, `);
  await q.execute(sql`DELETE FROM cron_runs WHERE id IN (
    SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY machine_id, name ORDER BY scheduled_at DESC, id DESC) AS n
      FROM cron_runs WHERE (machine_id, name) IN (${list})) x WHERE n > ${keep})`);
}

function machineFilter(machineIds: number[]): SQL {
  return sql`machine_id = ANY(${`{${machineIds.join(',')}}`}::int[])`;
}

/** A page of runs of entry `name` on these machines, newest first, after the cursor (scheduledAt, id). */
export async function listRuns(q: Queryable, name: string, machineIds: number[], limit: number, after: { at: string; id: string } | undefined): Promise<CronRunRow[]> {
  if (machineIds.length === 0) return [];
  const cursor = after ? sql`AND (scheduled_at, id) < (${after.at}::timestamptz, ${after.id}::uuid)` : sql``;
  return rows<CronRunRow>(q, sql`SELECT ${RUN_SUMMARY} FROM cron_runs WHERE name = ${name} AND ${machineFilter(machineIds)} ${cursor}
    ORDER BY scheduled_at DESC, id DESC LIMIT ${limit}`);
}

/** One run with its output. */
export async function runOf(q: Queryable, id: string): Promise<CronRunRow | undefined> {
  const [row] = await rows<CronRunRow>(q, sql`SELECT ${RUN_FULL} FROM cron_runs WHERE id = ${id}::uuid`);
  return row;
}

/** The latest run of each of `names` on these machines. */
export async function lastRuns(q: Queryable, names: string[], machineIds: number[]): Promise<Map<string, CronRunRow>> {
  if (names.length === 0 || machineIds.length === 0) return new Map();
  const list = rows<CronRunRow>(q, sql`SELECT DISTINCT ON (name) ${RUN_SUMMARY} FROM cron_runs
    WHERE name = ANY(${`{${names.join(',')}}`}::text[]) AND ${machineFilter(machineIds)} ORDER BY name, scheduled_at DESC, id DESC`);
  return new Map((await list).map((r) => [r.name, r]));
}
