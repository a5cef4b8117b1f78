/** SQL for discovery. Every function takes the query runner explicitly. */
import { eq, inArray, sql } from 'drizzle-orm';
import type { InstanceInput, ServiceInput } from '@canopy/core';
import { rows, type Queryable } from '../db/connection.ts';
import { machineNodes, machines } from '../db/tables.ts';
import type { AliasRecord, DiscoverySnapshot, InstanceRecord, MachineInfo, ServiceRecord } from './records.ts';
import { discoveryAliases, discoveryDependencies, discoveryHeartbeats, discoveryInstances, discoveryServices } from './tables.ts';

type ServiceRow = typeof discoveryServices.$inferSelect;

function serviceOf(r: ServiceRow): ServiceRecord {
  const { lbAlgorithm, lbHashKey, ...rest } = r;
  return { ...rest, lb: lbHashKey === null ? { algorithm: lbAlgorithm } : { algorithm: lbAlgorithm, hashKey: lbHashKey } };
}

const csvInts = (ids: number[]) => `{${ids.join(',')}}`;

/** Insert or replace a service definition; the version counts replacements. */
export async function upsertService(q: Queryable, nodeId: number, v: ServiceInput): Promise<ServiceRecord> {
  const fields = {
    ports: v.ports,
    lbAlgorithm: v.lb.algorithm,
    lbHashKey: v.lb.hashKey ?? null,
    protectThreshold: v.protectThreshold,
    zoneAware: v.zoneAware,
    zoneMinHealthy: v.zoneMinHealthy,
    passesBeforePassing: v.passesBeforePassing,
    failuresBeforeCritical: v.failuresBeforeCritical,
  };
  const [row] = await q
    .insert(discoveryServices)
    .values({ nodeId, ...fields })
    .onConflictDoUpdate({ target: discoveryServices.nodeId, set: { ...fields, version: sql`${discoveryServices.version} + 1`, updatedAt: sql`now()` } })
    .returning();
  return serviceOf(row as ServiceRow);
}

/** Delete a service; its instances, heartbeats and declared dependencies go with it (cascade). */
export async function deleteService(q: Queryable, nodeId: number): Promise<void> {
  await q.delete(discoveryServices).where(eq(discoveryServices.nodeId, nodeId));
}

/** The machine behind a hostname with its bound nodes, read under the caller's transaction. */
export async function machineByHostname(q: Queryable, hostname: string): Promise<MachineInfo | undefined> {
  const [m] = await q
    .select({ id: machines.id, hostname: machines.hostname, ips: machines.ips, zone: machines.zone, status: machines.status })
    .from(machines)
    .where(eq(machines.hostname, hostname))
    .for('share');
  if (!m) return undefined;
  const bound = await q.select({ nodeId: machineNodes.nodeId }).from(machineNodes).where(eq(machineNodes.machineId, m.id));
  return { ...m, nodeIds: bound.map((b) => b.nodeId) };
}

export async function insertInstance(
  q: Queryable,
  v: { nodeId: number; machineId: number; port: number; portName: string; ip: string | null; weight: number; status: InstanceRecord['status']; ttlSeconds: number | null; meta: Record<string, string> },
): Promise<InstanceRecord> {
  const [row] = await q.insert(discoveryInstances).values(v).returning();
  return row as InstanceRecord;
}

export async function updateInstance(q: Queryable, id: number, v: InstanceInput & { portName: string }): Promise<InstanceRecord> {
  const set: Record<string, unknown> = { version: sql`${discoveryInstances.version} + 1`, updatedAt: sql`now()`, portName: v.portName };
  if (v.weight !== undefined) set['weight'] = v.weight;
  if (v.status !== undefined) set['status'] = v.status;
  if (v.ttlSeconds !== undefined) set['ttlSeconds'] = v.ttlSeconds;
  if (v.meta !== undefined) set['meta'] = v.meta;
  if (v.ip !== undefined) set['ip'] = v.ip;
  const [row] = await q.update(discoveryInstances).set(set).where(eq(discoveryInstances.id, id)).returning();
  return row as InstanceRecord;
}

export async function deleteInstance(q: Queryable, id: number): Promise<void> {
  await q.delete(discoveryInstances).where(eq(discoveryInstances.id, id));
}

export async function setHealth(q: Queryable, id: number, health: InstanceRecord['health']): Promise<void> {
  await q.update(discoveryInstances).set({ health }).where(eq(discoveryInstances.id, id));
}

/** Merge last-seen times, keeping the newest; rows of deregistered instances are skipped. */
export async function saveHeartbeats(q: Queryable, seen: Map<number, number>): Promise<void> {
  if (seen.size === 0) return;
  const ids = [...seen.keys()];
  const at = ids.map((id) => seen.get(id) as number);
  await q.execute(sql`INSERT INTO discovery_heartbeats (instance_id, last_seen_ms)
    SELECT v.id, v.ms FROM unnest(${csvInts(ids)}::int[], ${csvInts(at)}::bigint[]) AS v(id, ms)
    JOIN discovery_instances i ON i.id = v.id
    ON CONFLICT (instance_id) DO UPDATE SET last_seen_ms = GREATEST(discovery_heartbeats.last_seen_ms, EXCLUDED.last_seen_ms)`);
}

/** Last-seen times every replica has written for these instances. */
export async function lastSeen(q: Queryable, ids: number[]): Promise<Map<number, number>> {
  if (ids.length === 0) return new Map();
  const res = await q.select().from(discoveryHeartbeats).where(inArray(discoveryHeartbeats.instanceId, ids));
  return new Map(res.map((r) => [r.instanceId, Number(r.lastSeenMs)]));
}

export async function upsertAlias(q: Queryable, a: { path: string; targetNodeId: number | null; targetPath: string | null }): Promise<AliasRecord> {
  const [row] = await q
    .insert(discoveryAliases)
    .values(a)
    .onConflictDoUpdate({
      target: discoveryAliases.path,
      set: { targetNodeId: a.targetNodeId, targetPath: a.targetPath, version: sql`${discoveryAliases.version} + 1`, updatedAt: sql`now()` },
    })
    .returning();
  return row as AliasRecord;
}

export async function deleteAlias(q: Queryable, path: string): Promise<boolean> {
  const res = await q.delete(discoveryAliases).where(eq(discoveryAliases.path, path)).returning({ path: discoveryAliases.path });
  return res.length > 0;
}

/** Replace a service's declared dependencies. */
export async function setDependencies(q: Queryable, nodeId: number, dependsOn: number[]): Promise<void> {
  await q.delete(discoveryDependencies).where(eq(discoveryDependencies.nodeId, nodeId));
  if (dependsOn.length > 0) await q.insert(discoveryDependencies).values(dependsOn.map((d) => ({ nodeId, dependsOn: d })));
}

/** Add a batch of observed lookups: counts add up, first/last seen widen. */
export async function addObservedEdges(q: Queryable, batch: { caller: number; callee: number; calls: number; lastSeenMs: number }[]): Promise<void> {
  if (batch.length === 0) return;
  const col = (f: (b: (typeof batch)[number]) => number) => csvInts(batch.map(f));
  await q.execute(sql`INSERT INTO discovery_observed_edges (caller_node_id, callee_node_id, calls, first_seen, last_seen)
    SELECT v.a, v.b, v.n, to_timestamp(v.ms / 1000.0), to_timestamp(v.ms / 1000.0)
    FROM unnest(${col((b) => b.caller)}::int[], ${col((b) => b.callee)}::int[], ${col((b) => b.calls)}::bigint[], ${col((b) => b.lastSeenMs)}::bigint[]) AS v(a, b, n, ms)
    JOIN nodes na ON na.id = v.a JOIN nodes nb ON nb.id = v.b
    ON CONFLICT (caller_node_id, callee_node_id) DO UPDATE SET
      calls = discovery_observed_edges.calls + EXCLUDED.calls,
      last_seen = GREATEST(discovery_observed_edges.last_seen, EXCLUDED.last_seen)`);
}

/** Observed edges with either end among `ids`. */
export async function observedTouching(q: Queryable, ids: number[]): Promise<{ caller: number; callee: number; calls: number; lastSeen: string }[]> {
  if (ids.length === 0) return [];
  const res = await rows<{ caller: number; callee: number; calls: string | number; last_ms: string | number }>(
    q,
    sql`SELECT caller_node_id AS caller, callee_node_id AS callee, calls, (extract(epoch FROM last_seen) * 1000)::bigint AS last_ms
        FROM discovery_observed_edges
        WHERE caller_node_id = ANY(${csvInts(ids)}::int[]) OR callee_node_id = ANY(${csvInts(ids)}::int[])`,
  );
  return res.map((r) => ({ caller: r.caller, callee: r.callee, calls: Number(r.calls), lastSeen: new Date(Number(r.last_ms)).toISOString() }));
}

/** Everything the registry holds, plus the newest revision at the time. */
export async function loadSnapshot(q: Queryable): Promise<DiscoverySnapshot> {
  const [top] = await rows<{ max: string | number | null }>(q, sql`SELECT max(revision) AS max FROM changes`);
  const services = (await q.select().from(discoveryServices)).map(serviceOf);
  const instances = (await q.select().from(discoveryInstances)) as InstanceRecord[];
  const machineRows = await rows<{ id: number; hostname: string; ips: string[]; zone: string; status: string; node_ids: number[] | null }>(
    q,
    sql`SELECT m.id, m.hostname, m.ips, m.zone, m.status,
               (SELECT array_agg(node_id) FROM machine_nodes mn WHERE mn.machine_id = m.id) AS node_ids
        FROM machines m WHERE m.id IN (SELECT machine_id FROM discovery_instances)`,
  );
  const aliases = (await q.select().from(discoveryAliases)) as AliasRecord[];
  const dependencies = await q.select().from(discoveryDependencies);
  const oldPaths = await rows<{ old_path: string; node_id: number }>(
    q,
    sql`SELECT DISTINCT ON (old_path) old_path, node_id FROM node_path_history ORDER BY old_path, changed_at DESC`,
  );
  const trashed = await rows<{ id: number; path: string }>(q, sql`SELECT id, path FROM nodes WHERE deleted_at IS NOT NULL`);
  return {
    services,
    instances,
    trashed,
    machines: machineRows.map(({ node_ids, ...m }) => ({ ...m, nodeIds: node_ids ?? [] })),
    aliases,
    dependencies,
    oldPaths: oldPaths.map((o) => ({ oldPath: o.old_path, nodeId: o.node_id })),
    revision: Number(top?.max ?? 0),
  };
}

/** Machines whose agent the control center holds as not connected (agent-health.ts). */
export async function unreachableAgents(q: Queryable): Promise<number[]> {
  const out = await rows<{ machineId: number }>(q, sql`SELECT machine_id AS "machineId" FROM agent_status WHERE state <> 'connected'`);
  return out.map((r) => r.machineId);
}
