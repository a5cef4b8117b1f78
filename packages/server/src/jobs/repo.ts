/** The only SQL of jobs. */
import { sql } from 'drizzle-orm';
import { rows, type Queryable } from '../db/connection.ts';
import type { JobHostState, JobState } from '@canopy/core';

export interface JobRow {
  id: number;
  kind: 'exec' | 'reboot' | 'init';
  nodeId: number | null;
  nodePath: string | null;
  target: Record<string, unknown>;
  spec: Record<string, unknown>;
  batch: { size: number | string; parallelism?: number; tolerance: number; canary: boolean };
  batches: number[];
  currentBatch: number;
  state: JobState;
  pausedBecause: string | null;
  canaryPassed: boolean;
  description: string;
  createdBy: string;
  createdAt: string;
  finishedAt: string | null;
}

export interface JobHostRow {
  machineId: number;
  hostname: string;
  batch: number;
  state: JobHostState;
  attempt: number;
  taskId: string | null;
  /** What this host runs when it differs from the job's spec (an init command from its node). */
  spec: Record<string, unknown> | null;
  taskState: number | null;
  exitCode: number | null;
  error: string | null;
  /** The task's last message (a reboot's carries its downtime). */
  message: string | null;
  stdout: string | null;
  stderr: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  createdAt: string | null;
}

const JOB_COLUMNS = sql`id, kind, node_id AS "nodeId", node_path AS "nodePath", target, spec, batch, batches,
  current_batch AS "currentBatch", state, paused_because AS "pausedBecause", canary_passed AS "canaryPassed",
  description, created_by AS "createdBy", created_at AS "createdAt", finished_at AS "finishedAt"`;

/** Insert a job, running. */
export async function insertJob(
  q: Queryable,
  j: Pick<JobRow, 'kind' | 'nodeId' | 'nodePath' | 'target' | 'spec' | 'batch' | 'batches' | 'description' | 'createdBy'>,
): Promise<JobRow> {
  const [row] = await rows<JobRow>(q, sql`INSERT INTO jobs (kind, node_id, node_path, target, spec, batch, batches, state, description, created_by)
    VALUES (${j.kind}, ${j.nodeId}, ${j.nodePath}, ${JSON.stringify(j.target)}::jsonb, ${JSON.stringify(j.spec)}::jsonb,
            ${JSON.stringify(j.batch)}::jsonb, ${JSON.stringify(j.batches)}::jsonb, 'running', ${j.description}, ${j.createdBy})
    RETURNING ${JOB_COLUMNS}`);
  return row!;
}

/** Insert a job's hosts, pending. */
export async function insertHosts(q: Queryable, jobId: number, hosts: { machineId: number; hostname: string; batch: number; spec?: Record<string, unknown> | null }[]): Promise<void> {
  if (hosts.length === 0) return;
  await q.execute(sql`INSERT INTO job_hosts (job_id, machine_id, hostname, batch, state, spec)
    SELECT ${jobId}, x.machine_id, x.hostname, x.batch, 'pending', x.spec
    FROM jsonb_to_recordset(${JSON.stringify(hosts.map((h) => ({ machine_id: h.machineId, hostname: h.hostname, batch: h.batch, spec: h.spec ?? null })))}::jsonb)
      AS x(machine_id integer, hostname text, batch integer, spec jsonb)`);
}

/** A job, locked for update when `lock`. */
export async function job(q: Queryable, id: number, lock = false): Promise<JobRow | undefined> {
  const [row] = await rows<JobRow>(q, sql`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ${id} ${lock ? sql`FOR UPDATE` : sql``}`);
  return row;
}

/** Jobs, newest first, optionally of one subtree. */
export async function listJobs(q: Queryable, opts: { underPath?: string | undefined; limit: number; before?: number | undefined }): Promise<JobRow[]> {
  const under = opts.underPath;
  return rows<JobRow>(q, sql`SELECT ${JOB_COLUMNS} FROM jobs
    WHERE true ${under ? sql`AND (node_path = ${under} OR node_path LIKE ${`${under}.%`})` : sql``}
      ${opts.before ? sql`AND id < ${opts.before}` : sql``}
    ORDER BY id DESC LIMIT ${opts.limit}`);
}

/** A job's hosts with their tasks' outcome (and output when asked). */
export async function hosts(q: Queryable, jobId: number, withOutput = false): Promise<JobHostRow[]> {
  return rows<JobHostRow>(q, sql`SELECT h.machine_id AS "machineId", h.hostname, h.batch, h.state, h.attempt, h.task_id AS "taskId", h.spec,
      t.state AS "taskState", t.exit_code AS "exitCode", t.error, t.message,
      ${withOutput ? sql`t.stdout, t.stderr` : sql`NULL AS stdout, NULL AS stderr`},
      t.started_at AS "startedAt", t.finished_at AS "finishedAt", t.created_at AS "createdAt"
    FROM job_hosts h LEFT JOIN tasks t ON t.id = h.task_id
    WHERE h.job_id = ${jobId} ORDER BY h.batch, h.hostname`);
}

/**
 * The next pending hosts of a batch, as many as the batch's parallelism leaves room for (hosts still
 * marked running count, finished or not: never more than allowed) and at most `limit`.
 */
export async function nextPending(q: Queryable, jobId: number, batch: number, parallelism: number | undefined, limit: number): Promise<{ machineId: number; spec: Record<string, unknown> | null; attempt: number }[]> {
  let room = limit;
  if (parallelism !== undefined) {
    const [r] = await rows<{ n: number }>(q, sql`SELECT count(*)::int AS n FROM job_hosts WHERE job_id = ${jobId} AND batch = ${batch} AND state = 'running'`);
    room = Math.min(limit, parallelism - (r?.n ?? 0));
  }
  if (room <= 0) return [];
  return rows(q, sql`SELECT machine_id AS "machineId", spec, attempt FROM job_hosts
    WHERE job_id = ${jobId} AND batch = ${batch} AND state = 'pending' ORDER BY hostname LIMIT ${room}`);
}

/** Set one host's state (and its task, attempt). */
export async function setHost(q: Queryable, jobId: number, machineId: number, state: JobHostState, taskId?: string | null, attempt?: number): Promise<void> {
  await q.execute(sql`UPDATE job_hosts SET state = ${state}
      ${taskId !== undefined ? sql`, task_id = ${taskId}` : sql``}
      ${attempt !== undefined ? sql`, attempt = ${attempt}` : sql``}
    WHERE job_id = ${jobId} AND machine_id = ${machineId}`);
}

/** Set many hosts' states (and tasks, attempts) in one statement: a batch of 10,000 is one write, not 10,000. */
export async function setHosts(q: Queryable, jobId: number, hosts: { machineId: number; state: JobHostState; taskId?: string; attempt?: number }[]): Promise<void> {
  if (hosts.length === 0) return;
  const data = hosts.map((h) => ({ machine_id: h.machineId, state: h.state, task_id: h.taskId ?? null, attempt: h.attempt ?? null }));
  await q.execute(sql`UPDATE job_hosts h SET state = x.state, task_id = COALESCE(x.task_id, h.task_id), attempt = COALESCE(x.attempt, h.attempt)
    FROM jsonb_to_recordset(${JSON.stringify(data)}::jsonb) AS x(machine_id integer, state text, task_id text, attempt integer)
    WHERE h.job_id = ${jobId} AND h.machine_id = x.machine_id`);
}

/** Change a job's state and bookkeeping. */
export async function updateJob(
  q: Queryable,
  id: number,
  patch: { state?: JobState; pausedBecause?: string | null; currentBatch?: number; canaryPassed?: boolean; finished?: boolean },
): Promise<void> {
  await q.execute(sql`UPDATE jobs SET
      state = COALESCE(${patch.state ?? null}, state),
      paused_because = ${patch.pausedBecause === undefined ? sql`paused_because` : sql`${patch.pausedBecause}`},
      current_batch = COALESCE(${patch.currentBatch ?? null}::int, current_batch),
      canary_passed = COALESCE(${patch.canaryPassed ?? null}::boolean, canary_passed),
      finished_at = ${patch.finished ? sql`now()` : sql`finished_at`}
    WHERE id = ${id}`);
}

/** Jobs still going (to advance after a restart). */
export async function activeJobIds(q: Queryable): Promise<number[]> {
  const out = await rows<{ id: number }>(q, sql`SELECT id FROM jobs WHERE state IN ('running', 'stopping')`);
  return out.map((r) => r.id);
}

/** Machines of `ids` whose labels hold every pair of `selector`. */
export async function machinesMatching(q: Queryable, ids: number[], selector: Record<string, string>): Promise<number[]> {
  if (ids.length === 0) return [];
  const out = await rows<{ id: number }>(q, sql`SELECT id FROM machines
    WHERE id = ANY(${`{${ids.map((n) => Math.trunc(n)).join(',')}}`}::int[]) AND labels @> ${JSON.stringify(selector)}::jsonb`);
  return out.map((r) => r.id);
}
