/** SQL for machines and their bindings to nodes. */
import { and, eq, sql, inArray, type SQL } from 'drizzle-orm';
import { rows, type Queryable } from '../db/connection.ts';
import { machineNodes, machines } from '../db/tables.ts';

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

export interface ListFilter {
  /** Restrict to machines bound to any of these nodes. */
  nodeIds?: number[] | undefined;
  status?: string | undefined;
  zone?: string | undefined;
  idc?: string | undefined;
  q?: string | undefined;
}

function whereOf(f: ListFilter): SQL {
  const parts: SQL[] = [sql`true`];
  if (f.nodeIds) {
    parts.push(sql`m.id IN (SELECT machine_id FROM machine_nodes WHERE node_id = ANY(${`{${f.nodeIds.join(',')}}`}::int[]))`);
  }
  if (f.status) parts.push(sql`m.status = ${f.status}`);
  if (f.zone) parts.push(sql`m.zone = ${f.zone}`);
  if (f.idc) parts.push(sql`m.idc = ${f.idc}`);
  if (f.q) parts.push(sql`(m.hostname LIKE ${`%${escapeLike(f.q)}%`} OR m.ips::text LIKE ${`%${escapeLike(f.q)}%`} OR m.serial = ${f.q})`);
  return sql.join(parts, sql` AND `);
}

/** One page of machines ordered by hostname, after `cursor` (a hostname), and the filter's total. */
export async function list(q: Queryable, f: ListFilter, limit: number, cursor: string | undefined): Promise<{ items: MachineRow[]; total: number }> {
  const where = whereOf(f);
  const after = cursor ? sql` AND m.hostname > ${cursor}` : sql``;
  const [items, count] = await Promise.all([
    rows<Record<string, unknown>>(q, sql`SELECT m.* FROM machines m WHERE ${where}${after} ORDER BY m.hostname LIMIT ${limit}`),
    rows<{ n: number }>(q, sql`SELECT count(*)::int AS n FROM machines m WHERE ${where}`),
  ]);
  return { items: items.map(fromRaw), total: count[0]?.n ?? 0 };
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function fromRaw(r: Record<string, unknown>): MachineRow {
  const ts = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v));
  return {
    id: r['id'] as number,
    hostname: r['hostname'] as string,
    ips: r['ips'] as string[],
    serial: r['serial'] as string,
    idc: r['idc'] as string,
    zone: r['zone'] as string,
    kind: r['kind'] as MachineRow['kind'],
    cpuCores: r['cpu_cores'] as number | null,
    memoryMb: r['memory_mb'] as number | null,
    diskGb: r['disk_gb'] as number | null,
    os: r['os'] as string,
    status: r['status'] as MachineRow['status'],
    labels: r['labels'] as Record<string, string>,
    facts: r['facts'] as Record<string, unknown>,
    version: r['version'] as number,
    createdAt: ts(r['created_at']),
    updatedAt: ts(r['updated_at']),
  };
}

