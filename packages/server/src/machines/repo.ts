/** SQL for machines and their bindings to nodes. */
import { and, eq, sql, inArray } from 'drizzle-orm';
import { rows, type Queryable } from '../db/connection.ts';
import { machineNodes, machines } from '../db/tables.ts';
import type { MachineLite } from './model.ts';

export type MachineRow = typeof machines.$inferSelect;
export type MachineInsert = typeof machines.$inferInsert;

export async function byHostname(q: Queryable, hostname: string, lock = false): Promise<MachineRow | undefined> {
  const base = q.select().from(machines).where(eq(machines.hostname, hostname));
  const [row] = lock ? await base.for('update') : await base;
  return row;
}

export async function byHostnames(q: Queryable, hostnames: string[]): Promise<MachineRow[]> {
  if (hostnames.length === 0) return [];
  return q.select().from(machines).where(inArray(machines.hostname, hostnames));
}

export async function byIds(q: Queryable, ids: number[]): Promise<MachineRow[]> {
  if (ids.length === 0) return [];
  return q.select().from(machines).where(inArray(machines.id, ids));
}

/** Every machine's listing fields and node ids, for the in-memory index. */
export async function loadLite(q: Queryable): Promise<MachineLite[]> {
  const res = await rows<{ id: number; hostname: string; status: string; zone: string; idc: string; serial: string; ips: string[]; node_ids: number[] | null }>(
    q,
    sql`SELECT m.id, m.hostname, m.status, m.zone, m.idc, m.serial, m.ips,
               (SELECT array_agg(node_id) FROM machine_nodes mn WHERE mn.machine_id = m.id) AS node_ids
        FROM machines m`,
  );
  return res.map(({ node_ids, ...m }) => ({ ...m, nodeIds: node_ids ?? [] }));
}

export async function insert(q: Queryable, v: MachineInsert): Promise<MachineRow> {
  const [row] = await q.insert(machines).values(v).returning();
  return row as MachineRow;
}

export async function update(q: Queryable, id: number, v: Partial<MachineInsert>): Promise<MachineRow> {
  const [row] = await q
    .update(machines)
    .set({ ...v, version: sql`${machines.version} + 1`, updatedAt: sql`now()` })
    .where(eq(machines.id, id))
    .returning();
  return row as MachineRow;
}

/** Bind; returns false when the binding already existed. */
export async function bind(q: Queryable, machineId: number, nodeId: number): Promise<boolean> {
  const res = await q.insert(machineNodes).values({ machineId, nodeId }).onConflictDoNothing().returning({ m: machineNodes.machineId });
  return res.length > 0;
}

export async function unbind(q: Queryable, machineId: number, nodeId: number): Promise<boolean> {
  const res = await q
    .delete(machineNodes)
    .where(and(eq(machineNodes.machineId, machineId), eq(machineNodes.nodeId, nodeId)))
    .returning({ m: machineNodes.machineId });
  return res.length > 0;
}

export async function unbindAll(q: Queryable, machineId: number): Promise<number[]> {
  const res = await q.delete(machineNodes).where(eq(machineNodes.machineId, machineId)).returning({ nodeId: machineNodes.nodeId });
  return res.map((r) => r.nodeId);
}

export async function countsFor(q: Queryable, nodeIds: number[]): Promise<[number, number][]> {
  if (nodeIds.length === 0) return [];
  const res = await q
    .select({ nodeId: machineNodes.nodeId, n: sql<number>`count(*)::int` })
    .from(machineNodes)
    .where(inArray(machineNodes.nodeId, nodeIds))
    .groupBy(machineNodes.nodeId);
  const found = new Map(res.map((r) => [r.nodeId, r.n]));
  return nodeIds.map((id) => [id, found.get(id) ?? 0]);
}

/** Node ids each machine is bound to. */
export async function nodeIdsOf(q: Queryable, machineIds: number[]): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  if (machineIds.length === 0) return out;
  const res = await q.select().from(machineNodes).where(inArray(machineNodes.machineId, machineIds));
  for (const r of res) out.set(r.machineId, [...(out.get(r.machineId) ?? []), r.nodeId]);
  return out;
}
