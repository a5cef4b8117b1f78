/** SQL for install requests. */
import { and, desc, eq, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { Queryable } from '../db/connection.ts';
import { provisioningRequests as t, type ProvisioningState } from './tables.ts';

export type RequestRow = typeof t.$inferSelect;

export async function insert(
  q: Queryable,
  v: { hostname: string; nodeId: number; idc: string; zone: string; os: string; serial: string; mac: string; requestedBy: string; note: string; createdBy: string; ttlHours: number; tokenHash: string | null },
): Promise<RequestRow> {
  const { ttlHours, ...fields } = v;
  const [row] = await q
    .insert(t)
    .values({ ...fields, expiresAt: sql`now() + make_interval(hours => ${ttlHours}::int)` })
    .returning();
  return row as RequestRow;
}

export async function byId(q: Queryable, id: number, lock = false): Promise<RequestRow | undefined> {
  const base = q.select().from(t).where(eq(t.id, id));
  const [row] = lock ? await base.for('update') : await base;
  return row;
}

/** The open request for a hostname, locked for the rest of the transaction. */
export async function lockOpen(q: Queryable, hostname: string): Promise<RequestRow | undefined> {
  const [row] = await q
    .select()
    .from(t)
    .where(and(eq(t.hostname, hostname), eq(t.state, 'open')))
    .for('update');
  return row;
}

/** Close a request: bound to a machine, expired or cancelled. */
export async function close(q: Queryable, id: number, state: Exclude<ProvisioningState, 'open'>, machineId: number | null = null): Promise<RequestRow> {
  const [row] = await q
    .update(t)
    .set({ state, machineId, closedAt: sql`now()`, version: sql`${t.version} + 1` })
    .where(eq(t.id, id))
    .returning();
  return row as RequestRow;
}

/** Mark every open request past its expiry as expired; returns them. */
export function expireDue(q: Queryable): Promise<RequestRow[]> {
  return q
    .update(t)
    .set({ state: 'expired', closedAt: sql`now()`, version: sql`${t.version} + 1` })
    .where(and(eq(t.state, 'open'), lt(t.expiresAt, sql`now()`)))
    .returning();
}

export function loadOpen(q: Queryable): Promise<RequestRow[]> {
  return q.select().from(t).where(eq(t.state, 'open'));
}

/** Hostnames of open requests whose machine already exists (binds a missed event left undone). */
export async function openWithMachine(q: Queryable): Promise<string[]> {
  const res = await q
    .select({ hostname: t.hostname })
    .from(t)
    .where(and(eq(t.state, 'open'), sql`EXISTS (SELECT 1 FROM machines m WHERE m.hostname = ${t.hostname} AND m.status <> 'retired')`));
  return res.map((r) => r.hostname);
}

/** A page of requests, newest first, after `beforeId`. */
export function list(q: Queryable, f: { state?: ProvisioningState | undefined; nodeIds?: number[] | undefined; hostname?: string | undefined }, limit: number, beforeId?: number): Promise<RequestRow[]> {
  const where: SQL[] = [];
  if (f.state) where.push(eq(t.state, f.state));
  if (f.nodeIds) where.push(f.nodeIds.length > 0 ? inArray(t.nodeId, f.nodeIds) : sql`false`);
  if (f.hostname) where.push(eq(t.hostname, f.hostname));
  if (beforeId !== undefined) where.push(lt(t.id, beforeId));
  return q.select().from(t).where(and(...where)).orderBy(desc(t.id)).limit(limit);
}

/** The request an enrollment token was issued with (no lock). */
export async function byToken(q: Queryable, tokenHash: string): Promise<RequestRow | undefined> {
  const [row] = await q.select().from(t).where(eq(t.tokenHash, tokenHash));
  return row;
}

/** The request an enrollment token was issued with, locked for the rest of the transaction. */
export async function lockByToken(q: Queryable, tokenHash: string): Promise<RequestRow | undefined> {
  const [row] = await q.select().from(t).where(eq(t.tokenHash, tokenHash)).for('update');
  return row;
}

/** Spend a request's token and record the machine it enrolled; the request closes as bound if it was open. */
export async function markEnrolled(q: Queryable, id: number, machineId: number): Promise<RequestRow> {
  const [row] = await q
    .update(t)
    .set({
      enrolledAt: sql`now()`,
      machineId,
      state: sql`CASE WHEN ${t.state} = 'open' THEN 'bound' ELSE ${t.state} END`,
      closedAt: sql`coalesce(${t.closedAt}, now())`,
      version: sql`${t.version} + 1`,
    })
    .where(eq(t.id, id))
    .returning();
  return row as RequestRow;
}
