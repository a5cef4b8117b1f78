/** The only SQL of alerting: rules, receivers, silences, alerts, and the evaluator's advisory lock. */
import { sql } from 'drizzle-orm';
import type { AlertReceiverInput, AlertRuleSpec } from '@canopy/core';
import { rows, type Queryable } from '../db/connection.ts';

export interface EntryRow<S> {
  nodeId: number;
  name: string;
  spec: S;
  updatedBy: string;
  updatedAt: string;
}

const ENTRY = sql`node_id AS "nodeId", name, spec, updated_by AS "updatedBy", updated_at AS "updatedAt"`;

type EntryTable = 'alert_rules' | 'alert_receivers';

/** Every rule (or every receiver) of every node. */
export async function allEntries<S>(q: Queryable, table: EntryTable): Promise<EntryRow<S>[]> {
  return rows<EntryRow<S>>(q, sql`SELECT ${ENTRY} FROM ${sql.raw(table)} ORDER BY node_id, name`);
}

/** One node's entry, locked. */
export async function entryOf<S>(q: Queryable, table: EntryTable, nodeId: number, name: string): Promise<EntryRow<S> | undefined> {
  const [row] = await rows<EntryRow<S>>(q, sql`SELECT ${ENTRY} FROM ${sql.raw(table)} WHERE node_id = ${nodeId} AND name = ${name} FOR UPDATE`);
  return row;
}

/** Set a node's entry. */
export async function putEntry<S extends AlertRuleSpec | AlertReceiverInput>(q: Queryable, table: EntryTable, nodeId: number, name: string, spec: S, by: string): Promise<EntryRow<S>> {
  const [row] = await rows<EntryRow<S>>(q, sql`INSERT INTO ${sql.raw(table)} (node_id, name, spec, updated_by, updated_at)
    VALUES (${nodeId}, ${name}, ${JSON.stringify(spec)}::jsonb, ${by}, now())
    ON CONFLICT (node_id, name) DO UPDATE SET spec = EXCLUDED.spec, updated_by = EXCLUDED.updated_by, updated_at = now()
    RETURNING ${ENTRY}`);
  return row!;
}

/** Remove a node's entry; false when there was none. */
export async function deleteEntry(q: Queryable, table: EntryTable, nodeId: number, name: string): Promise<boolean> {
  const out = await rows<{ n: number }>(q, sql`DELETE FROM ${sql.raw(table)} WHERE node_id = ${nodeId} AND name = ${name} RETURNING 1 AS n`);
  return out.length > 0;
}

export interface SilenceRow {
  id: number;
  nodeId: number;
  rule: string | null;
  machine: string | null;
  match: Record<string, string>;
  startsAt: string;
  endsAt: string;
  comment: string;
  createdBy: string;
  createdAt: string;
}

const SILENCE = sql`id, node_id AS "nodeId", rule, machine, match, starts_at AS "startsAt", ends_at AS "endsAt", comment, created_by AS "createdBy", created_at AS "createdAt"`;

/** Silences not yet over. */
export async function currentSilences(q: Queryable): Promise<SilenceRow[]> {
  return rows<SilenceRow>(q, sql`SELECT ${SILENCE} FROM alert_silences WHERE ends_at > now() ORDER BY id`);
}

export async function insertSilence(q: Queryable, s: Omit<SilenceRow, 'id' | 'createdAt'>): Promise<SilenceRow> {
  const [row] = await rows<SilenceRow>(q, sql`INSERT INTO alert_silences (node_id, rule, machine, match, starts_at, ends_at, comment, created_by)
    VALUES (${s.nodeId}, ${s.rule}, ${s.machine}, ${JSON.stringify(s.match)}::jsonb, ${s.startsAt}, ${s.endsAt}, ${s.comment}, ${s.createdBy})
    RETURNING ${SILENCE}`);
  return row!;
}

/** End a silence now; the row before, or undefined when it is unknown or already over. */
export async function expireSilence(q: Queryable, id: number): Promise<SilenceRow | undefined> {
  const [row] = await rows<SilenceRow>(q, sql`UPDATE alert_silences SET ends_at = now() WHERE id = ${id} AND ends_at > now() RETURNING ${SILENCE}`);
  return row;
}

export async function silenceById(q: Queryable, id: number): Promise<SilenceRow | undefined> {
  const [row] = await rows<SilenceRow>(q, sql`SELECT ${SILENCE} FROM alert_silences WHERE id = ${id}`);
  return row;
}

export interface AlertRow {
  id: number;
  key: string;
  rule: string;
  originNodeId: number;
  nodeId: number;
  machineId: number | null;
  machine: string;
  labels: Record<string, string>;
  severity: string;
  state: 'pending' | 'firing' | 'resolved';
  value: number | null;
  summary: string;
  source: 'canopy' | 'prometheus';
  startedAt: string;
  firedAt: string | null;
  resolvedAt: string | null;
  ackedBy: string | null;
  ackedAt: string | null;
  notifications: number;
  lastNotifiedAt: string | null;
  escalated: boolean;
}

const ALERT = sql`id::int AS id, key, rule, origin_node_id AS "originNodeId", node_id AS "nodeId", machine_id AS "machineId", machine, labels, severity, state, value, summary, source,
  started_at AS "startedAt", fired_at AS "firedAt", resolved_at AS "resolvedAt", acked_by AS "ackedBy", acked_at AS "ackedAt", notifications, last_notified_at AS "lastNotifiedAt", escalated`;

/** Alerts still live (pending or firing). */
export async function liveAlerts(q: Queryable): Promise<AlertRow[]> {
  return rows<AlertRow>(q, sql`SELECT ${ALERT} FROM alerts WHERE state <> 'resolved' ORDER BY id`);
}

export async function alertById(q: Queryable, id: number, lock = false): Promise<AlertRow | undefined> {
  const [row] = await rows<AlertRow>(q, sql`SELECT ${ALERT} FROM alerts WHERE id = ${id} ${lock ? sql`FOR UPDATE` : sql``}`);
  return row;
}

/** Start an alert. */
export async function insertAlert(q: Queryable, a: Omit<AlertRow, 'id' | 'resolvedAt' | 'ackedBy' | 'ackedAt' | 'notifications' | 'lastNotifiedAt' | 'escalated'>): Promise<AlertRow> {
  const [row] = await rows<AlertRow>(q, sql`INSERT INTO alerts (key, rule, origin_node_id, node_id, machine_id, machine, labels, severity, state, value, summary, source, started_at, fired_at)
    VALUES (${a.key}, ${a.rule}, ${a.originNodeId}, ${a.nodeId}, ${a.machineId}, ${a.machine}, ${JSON.stringify(a.labels)}::jsonb, ${a.severity}, ${a.state}, ${a.value}, ${a.summary}, ${a.source}, ${a.startedAt}, ${a.firedAt})
    RETURNING ${ALERT}`);
  return row!;
}

/** Change a live alert's state, value and notification bookkeeping. */
export async function updateAlert(q: Queryable, id: number, p: Partial<Pick<AlertRow, 'state' | 'value' | 'firedAt' | 'resolvedAt' | 'notifications' | 'lastNotifiedAt' | 'escalated' | 'ackedBy' | 'ackedAt'>>): Promise<AlertRow | undefined> {
  const sets = Object.entries(p).map(([k, v]) => sql`${sql.raw(k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`))} = ${v}`);
  if (sets.length === 0) return alertById(q, id);
  const [row] = await rows<AlertRow>(q, sql`UPDATE alerts SET ${sql.join(sets, sql`, `)} WHERE id = ${id} RETURNING ${ALERT}`);
  return row;
}

/** One page of alerts on these nodes, newest first. */
export async function alertHistory(q: Queryable, nodeIds: number[], limit: number, beforeId: number | undefined): Promise<AlertRow[]> {
  if (nodeIds.length === 0) return [];
  return rows<AlertRow>(q, sql`SELECT ${ALERT} FROM alerts WHERE node_id IN ${sql`(${sql.join(nodeIds.map((n) => sql`${n}`), sql`, `)})`}
    ${beforeId === undefined ? sql`` : sql`AND id < ${beforeId}`} ORDER BY id DESC LIMIT ${limit}`);
}

/** Machines whose agent the dispatcher holds as connected, and those it holds as not. */
export async function agentStates(q: Queryable): Promise<{ machineId: number; state: string }[]> {
  return rows<{ machineId: number; state: string }>(q, sql`SELECT machine_id AS "machineId", state FROM agent_status`);
}

/** The evaluator's session lock (held by one pooled connection until it closes). */
export const EVALUATOR_LOCK = 70_700_012;

/** Try to take the evaluator's lock; the backend pid holding it when taken. */
export async function tryEvaluatorLock(q: Queryable): Promise<number | undefined> {
  const [r] = await rows<{ ok: boolean; pid: number }>(q, sql`SELECT pg_try_advisory_lock(${EVALUATOR_LOCK}) AS ok, pg_backend_pid() AS pid`);
  return r?.ok ? r.pid : undefined;
}

/** True while backend `pid` still holds the evaluator's lock (a reaped connection loses it). */
export async function holdsEvaluatorLock(q: Queryable, pid: number): Promise<boolean> {
  const out = await rows<{ n: number }>(q, sql`SELECT 1 AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = ${EVALUATOR_LOCK} AND objsubid = 1 AND pid = ${pid} AND granted`);
  return out.length > 0;
}
