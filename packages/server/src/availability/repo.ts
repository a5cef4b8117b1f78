/** The only SQL of availability: count buckets, batch numbering, settings, outlier state, ejections. */
import { sql } from 'drizzle-orm';
import type { AvailabilitySettings } from '@canopy/core';
import { rows, type Queryable } from '../db/connection.ts';
import type { Cell } from './model.ts';

export interface CountRow {
  nodeId: number;
  domain: string;
  location: string;
  backend: string;
  tier: 0 | 1;
  bucket: number;
  cell: Cell;
}

export interface OutlierRow {
  nodeId: number;
  backend: string;
  ejected: boolean;
  count: number;
  ejectedAt: number;
  until: number;
  hostname: string | null;
  port: number | null;
}

export interface EjectionRow {
  id: number;
  nodeId: number;
  backend: string;
  hostname: string | null;
  port: number | null;
  reason: string;
  detail: string;
  ejectedAt: string;
  untilAt: string;
  returnedAt: string | null;
}

/** Write buckets whole (the caller merged them with what the model holds). */
export async function putCounts(q: Queryable, list: readonly CountRow[]): Promise<void> {
  for (let i = 0; i < list.length; i += 500) {
    const values = list.slice(i, i + 500).map((r) => sql`(${r.nodeId}, ${r.domain}, ${r.location}, ${r.backend}, ${r.tier}, ${r.bucket}, ${JSON.stringify(r.cell.statuses)}::jsonb, ${JSON.stringify(r.cell.latency)}::jsonb)`);
    await q.execute(sql`INSERT INTO availability_counts (node_id, domain, location, backend, tier, bucket_ms, statuses, latency)
      VALUES ${sql.join(values, sql`, `)}
      ON CONFLICT (node_id, tier, bucket_ms, domain, location, backend) DO UPDATE SET statuses = EXCLUDED.statuses, latency = EXCLUDED.latency`);
  }
}

/** Buckets still kept. */
export async function loadCounts(q: Queryable, fineSince: number, hourlySince: number): Promise<CountRow[]> {
  const r = await rows<{ node_id: number; domain: string; location: string; backend: string; tier: number; bucket_ms: string | number; statuses: Record<string, number>; latency: number[] }>(
    q,
    sql`SELECT node_id, domain, location, backend, tier, bucket_ms, statuses, latency FROM availability_counts
        WHERE (tier = 0 AND bucket_ms >= ${fineSince}) OR (tier = 1 AND bucket_ms >= ${hourlySince})`,
  );
  return r.map((x) => ({ nodeId: x.node_id, domain: x.domain, location: x.location, backend: x.backend, tier: x.tier === 0 ? 0 : 1, bucket: Number(x.bucket_ms), cell: { statuses: x.statuses, latency: x.latency } }));
}

/** Drop buckets past their keep time. */
export async function pruneCounts(q: Queryable, fineBefore: number, hourlyBefore: number): Promise<void> {
  await q.execute(sql`DELETE FROM availability_counts WHERE (tier = 0 AND bucket_ms < ${fineBefore}) OR (tier = 1 AND bucket_ms < ${hourlyBefore})`);
}

export async function putSource(q: Queryable, source: string, machineId: number, seq: number, from: number, to: number): Promise<void> {
  await q.execute(sql`INSERT INTO availability_sources (source, machine_id, last_seq, last_from, last_to) VALUES (${source}, ${machineId}, ${seq}, ${from}, ${to})
    ON CONFLICT (source) DO UPDATE SET machine_id = EXCLUDED.machine_id, last_seq = EXCLUDED.last_seq, last_from = EXCLUDED.last_from, last_to = EXCLUDED.last_to, updated_at = now()`);
}

export async function loadSources(q: Queryable): Promise<{ source: string; machineId: number; lastSeq: number; lastFrom: number; lastTo: number }[]> {
  const r = await rows<{ source: string; machine_id: number; last_seq: string | number; last_from: string | number; last_to: string | number }>(q, sql`SELECT source, machine_id, last_seq, last_from, last_to FROM availability_sources`);
  return r.map((x) => ({ source: x.source, machineId: x.machine_id, lastSeq: Number(x.last_seq), lastFrom: Number(x.last_from), lastTo: Number(x.last_to) }));
}

export async function putSettings(q: Queryable, nodeId: number, s: AvailabilitySettings): Promise<void> {
  await q.execute(sql`INSERT INTO availability_settings (node_id, settings) VALUES (${nodeId}, ${JSON.stringify(s)}::jsonb)
    ON CONFLICT (node_id) DO UPDATE SET settings = EXCLUDED.settings, updated_at = now()`);
}

export async function deleteSettings(q: Queryable, nodeId: number): Promise<boolean> {
  const r = await rows<{ node_id: number }>(q, sql`DELETE FROM availability_settings WHERE node_id = ${nodeId} RETURNING node_id`);
  return r.length > 0;
}

export async function loadSettings(q: Queryable): Promise<{ nodeId: number; settings: unknown }[]> {
  const r = await rows<{ node_id: number; settings: unknown }>(q, sql`SELECT node_id, settings FROM availability_settings`);
  return r.map((x) => ({ nodeId: x.node_id, settings: x.settings }));
}

export async function putOutlier(q: Queryable, o: OutlierRow): Promise<void> {
  await q.execute(sql`INSERT INTO availability_outliers (node_id, backend, ejected, count, ejected_at, until_ms, hostname, port)
    VALUES (${o.nodeId}, ${o.backend}, ${o.ejected}, ${o.count}, ${o.ejectedAt}, ${o.until}, ${o.hostname}, ${o.port})
    ON CONFLICT (node_id, backend) DO UPDATE SET ejected = EXCLUDED.ejected, count = EXCLUDED.count, ejected_at = EXCLUDED.ejected_at,
      until_ms = EXCLUDED.until_ms, hostname = EXCLUDED.hostname, port = EXCLUDED.port`);
}

export async function loadOutliers(q: Queryable): Promise<OutlierRow[]> {
  const r = await rows<{ node_id: number; backend: string; ejected: boolean; count: number; ejected_at: string | number; until_ms: string | number; hostname: string | null; port: number | null }>(
    q,
    sql`SELECT node_id, backend, ejected, count, ejected_at, until_ms, hostname, port FROM availability_outliers`,
  );
  return r.map((x) => ({ nodeId: x.node_id, backend: x.backend, ejected: x.ejected, count: x.count, ejectedAt: Number(x.ejected_at), until: Number(x.until_ms), hostname: x.hostname, port: x.port }));
}

export async function insertEjection(q: Queryable, e: { nodeId: number; backend: string; hostname: string | null; port: number | null; reason: string; detail: string; ejectedAt: number; until: number }): Promise<void> {
  await q.execute(sql`INSERT INTO availability_ejections (node_id, backend, hostname, port, reason, detail, ejected_at, until_at)
    VALUES (${e.nodeId}, ${e.backend}, ${e.hostname}, ${e.port}, ${e.reason}, ${e.detail}, to_timestamp(${e.ejectedAt / 1000}), to_timestamp(${e.until / 1000}))`);
}

export async function markReturned(q: Queryable, nodeId: number, backend: string): Promise<void> {
  await q.execute(sql`UPDATE availability_ejections SET returned_at = now() WHERE node_id = ${nodeId} AND backend = ${backend} AND returned_at IS NULL`);
}

export async function listEjections(q: Queryable, nodeId: number, limit: number): Promise<EjectionRow[]> {
  return rows<EjectionRow>(
    q,
    sql`SELECT id::int AS id, node_id AS "nodeId", backend, hostname, port, reason, detail, ejected_at AS "ejectedAt", until_at AS "untilAt", returned_at AS "returnedAt"
        FROM availability_ejections WHERE node_id = ${nodeId} ORDER BY id DESC LIMIT ${limit}`,
  );
}
