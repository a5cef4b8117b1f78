/** The only SQL of config rollouts: one row per cluster (the version going out), one per machine of it. */
import { sql } from 'drizzle-orm';
import type { TaskStateValue } from '@canopy/core';
import { rows, type Queryable } from '../db/connection.ts';
import type { ConfigKind } from './repo.ts';

export type RolloutState = 'canary' | 'rolling' | 'done' | 'failed';

export interface RolloutRow {
  version: number;
  state: RolloutState;
  canaryMachineId: number | null;
  failedMachineId: number | null;
  error: string | null;
  startedAt: string | null;
  updatedAt: string | null;
}

export interface MachineVersionRow {
  machineId: number;
  version: number | null;
  appliedAt: string | null;
  taskId: string | null;
  taskVersion: number | null;
  failedVersion: number | null;
  error: string | null;
  /** The in-flight task's state, message and error as its agent last reported them. */
  taskState: TaskStateValue | null;
  taskMessage: string | null;
  taskError: string | null;
}

/** The cluster's rollout, if a version was ever rolled out. */
export async function rollout(q: Queryable, kind: ConfigKind, cluster: number): Promise<RolloutRow | undefined> {
  const [r] = await rows<RolloutRow>(q, sql`SELECT version, state, canary_machine_id AS "canaryMachineId", failed_machine_id AS "failedMachineId",
      error, started_at AS "startedAt", updated_at AS "updatedAt"
    FROM config_rollouts WHERE kind = ${kind} AND cluster_node_id = ${cluster}`);
  return r;
}

/** Store the cluster's rollout; a new target version restarts its clock. */
export async function putRollout(q: Queryable, kind: ConfigKind, cluster: number, r: Omit<RolloutRow, 'startedAt' | 'updatedAt'>): Promise<void> {
  await q.execute(sql`INSERT INTO config_rollouts (kind, cluster_node_id, version, state, canary_machine_id, failed_machine_id, error)
    VALUES (${kind}, ${cluster}, ${r.version}, ${r.state}, ${r.canaryMachineId}, ${r.failedMachineId}, ${r.error})
    ON CONFLICT (kind, cluster_node_id) DO UPDATE SET version = EXCLUDED.version, state = EXCLUDED.state,
      canary_machine_id = EXCLUDED.canary_machine_id, failed_machine_id = EXCLUDED.failed_machine_id, error = EXCLUDED.error,
      started_at = CASE WHEN config_rollouts.version <> EXCLUDED.version THEN now() ELSE config_rollouts.started_at END,
      updated_at = now()`);
}

/** Every machine row of the cluster, with the state of its in-flight task. */
export async function machineRows(q: Queryable, kind: ConfigKind, cluster: number): Promise<MachineVersionRow[]> {
  return rows<MachineVersionRow>(q, sql`SELECT m.machine_id AS "machineId", m.version, m.applied_at AS "appliedAt", m.task_id AS "taskId",
      m.task_version AS "taskVersion", m.failed_version AS "failedVersion", m.error,
      t.state AS "taskState", t.message AS "taskMessage", t.error AS "taskError"
    FROM config_machine_versions m LEFT JOIN tasks t ON t.id = m.task_id
    WHERE m.kind = ${kind} AND m.cluster_node_id = ${cluster} ORDER BY m.machine_id`);
}

/** Store one machine's row. */
export async function putMachine(q: Queryable, kind: ConfigKind, cluster: number, m: Omit<MachineVersionRow, 'taskState' | 'taskMessage' | 'taskError'>): Promise<void> {
  await q.execute(sql`INSERT INTO config_machine_versions (kind, cluster_node_id, machine_id, version, applied_at, task_id, task_version, failed_version, error)
    VALUES (${kind}, ${cluster}, ${m.machineId}, ${m.version}, ${m.appliedAt}, ${m.taskId}, ${m.taskVersion}, ${m.failedVersion}, ${m.error})
    ON CONFLICT (kind, cluster_node_id, machine_id) DO UPDATE SET version = EXCLUDED.version, applied_at = EXCLUDED.applied_at,
      task_id = EXCLUDED.task_id, task_version = EXCLUDED.task_version, failed_version = EXCLUDED.failed_version,
      error = EXCLUDED.error, updated_at = now()`);
}

/** Give a machine its in-flight task; false when it already has one (nothing is written then). */
export async function claimMachine(q: Queryable, kind: ConfigKind, cluster: number, m: Omit<MachineVersionRow, 'taskState' | 'taskMessage' | 'taskError'>): Promise<boolean> {
  const out = await rows<{ id: number }>(q, sql`INSERT INTO config_machine_versions (kind, cluster_node_id, machine_id, version, applied_at, task_id, task_version, failed_version, error)
    VALUES (${kind}, ${cluster}, ${m.machineId}, ${m.version}, ${m.appliedAt}, ${m.taskId}, ${m.taskVersion}, ${m.failedVersion}, ${m.error})
    ON CONFLICT (kind, cluster_node_id, machine_id) DO UPDATE SET task_id = EXCLUDED.task_id, task_version = EXCLUDED.task_version, updated_at = now()
      WHERE config_machine_versions.task_id IS NULL
    RETURNING machine_id AS id`);
  return out.length === 1;
}

/** Clusters of `kind` with at least one published version (rollouts to resume after a restart). */
export async function publishedClusters(q: Queryable, kind: ConfigKind): Promise<number[]> {
  const out = await rows<{ id: number }>(q, sql`SELECT DISTINCT cluster_node_id AS id FROM config_versions WHERE kind = ${kind}`);
  return out.map((r) => Number(r.id));
}
