/** The only SQL of the monitor capability: series ids, history chunks, collect rules. */
import { sql } from 'drizzle-orm';
import type { CollectRule } from '@canopy/core';
import { rows, type Queryable } from '../db/connection.ts';
import type { ChunkRow } from './store.ts';

const ints = (list: Iterable<number>) => `{${[...list].map((n) => Math.trunc(n)).join(',')}}`;
const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Every known series (loaded at start; a few hundred thousand rows at most). */
export function allSeries(q: Queryable): Promise<{ id: number; machineId: number; key: string }[]> {
  return rows(q, sql`SELECT id, machine_id AS "machineId", key FROM monitor_series`);
}

/** Ids of these series, created when new (several replicas may race: the unique key decides). */
export async function seriesIds(q: Queryable, list: { machineId: number; key: string }[]): Promise<{ id: number; machineId: number; key: string }[]> {
  if (list.length === 0) return [];
  const json = JSON.stringify(list.map((s) => ({ m: s.machineId, k: s.key })));
  return rows(q, sql`INSERT INTO monitor_series (machine_id, key)
    SELECT m, k FROM jsonb_to_recordset(${json}::jsonb) AS x(m int, k text)
    ON CONFLICT (machine_id, key) DO UPDATE SET key = EXCLUDED.key
    RETURNING id, machine_id AS "machineId", key`);
}

/** Write chunks (insert or replace), in statements of at most `batch` rows. */
export async function putChunks(q: Queryable, list: ChunkRow[], batch = 2000): Promise<void> {
  for (let i = 0; i < list.length; i += batch) {
    const json = JSON.stringify(list.slice(i, i + batch).map((c) => ({ t: c.tier, s: Math.floor(c.startMs / 1000), i: c.seriesId, n: c.count, d: hex(c.data) })));
    await q.execute(sql`INSERT INTO monitor_chunks (tier, start_s, series_id, count, data)
      SELECT t, s, i, n, decode(d, 'hex') FROM jsonb_to_recordset(${json}::jsonb) AS x(t smallint, s int, i int, n smallint, d text)
      ON CONFLICT (tier, start_s, series_id) DO UPDATE SET count = EXCLUDED.count, data = EXCLUDED.data`);
  }
}

/** Chunks of one tier with these starts (ms) for these series. */
export async function chunks(q: Queryable, tier: number, startsMs: number[], seriesIds: number[]): Promise<ChunkRow[]> {
  if (startsMs.length === 0 || seriesIds.length === 0) return [];
  const out = await rows<{ seriesId: number; startS: number; count: number; hex: string }>(
    q,
    sql`SELECT series_id AS "seriesId", start_s AS "startS", count, encode(data, 'hex') AS hex FROM monitor_chunks
      WHERE tier = ${tier} AND start_s = ANY(${ints(startsMs.map((s) => s / 1000))}::int[]) AND series_id = ANY(${ints(seriesIds)}::int[])`,
  );
  return out.map((r) => ({ seriesId: r.seriesId, tier, startMs: r.startS * 1000, count: r.count, data: Buffer.from(r.hex, 'hex') }));
}

/** Every chunk of a tier starting at or after `fromMs` (open chunks to resume after a restart). */
export async function chunksSince(q: Queryable, tier: number, fromMs: number): Promise<ChunkRow[]> {
  const out = await rows<{ seriesId: number; startS: number; count: number; hex: string }>(
    q,
    sql`SELECT series_id AS "seriesId", start_s AS "startS", count, encode(data, 'hex') AS hex FROM monitor_chunks WHERE tier = ${tier} AND start_s >= ${Math.floor(fromMs / 1000)}`,
  );
  return out.map((r) => ({ seriesId: r.seriesId, tier, startMs: r.startS * 1000, count: r.count, data: Buffer.from(r.hex, 'hex') }));
}

/** Drop chunks of a tier that started before `beforeMs`; the number dropped. */
export async function dropChunks(q: Queryable, tier: number, beforeMs: number): Promise<number> {
  const out = await rows<{ n: number }>(q, sql`WITH d AS (DELETE FROM monitor_chunks WHERE tier = ${tier} AND start_s < ${Math.floor(beforeMs / 1000)} RETURNING 1) SELECT count(*)::int AS n FROM d`);
  return out[0]?.n ?? 0;
}

/** Let the space of replaced chunk versions be reused (PGlite has no autovacuum); errors are not fatal. */
export async function vacuumChunks(q: Queryable): Promise<void> {
  await q.execute(sql`VACUUM monitor_chunks`);
}

/** Bytes the history takes on disk (table, its TOAST and indexes). */
export async function historyBytes(q: Queryable): Promise<number> {
  const out = await rows<{ n: string | number }>(q, sql`SELECT pg_total_relation_size('monitor_chunks') + pg_total_relation_size('monitor_series') AS n`);
  return Number(out[0]?.n ?? 0);
}

/** Every node's own collect rules. */
export async function allCollectRules(q: Queryable): Promise<Map<number, CollectRule[]>> {
  const out = await rows<{ nodeId: number; rules: CollectRule[] }>(q, sql`SELECT node_id AS "nodeId", rules FROM collect_rules`);
  return new Map(out.map((r) => [r.nodeId, r.rules]));
}

/** One node's own rules (locked), or undefined. */
export async function collectRulesOf(q: Queryable, nodeId: number): Promise<CollectRule[] | undefined> {
  const [row] = await rows<{ rules: CollectRule[] }>(q, sql`SELECT rules FROM collect_rules WHERE node_id = ${nodeId} FOR UPDATE`);
  return row?.rules;
}

/** Set (or, with an empty list, remove) a node's rules. */
export async function putCollectRules(q: Queryable, nodeId: number, list: CollectRule[], by: string): Promise<void> {
  if (list.length === 0) await q.execute(sql`DELETE FROM collect_rules WHERE node_id = ${nodeId}`);
  else
    await q.execute(sql`INSERT INTO collect_rules (node_id, rules, updated_by) VALUES (${nodeId}, ${JSON.stringify(list)}::jsonb, ${by})
      ON CONFLICT (node_id) DO UPDATE SET rules = EXCLUDED.rules, updated_by = EXCLUDED.updated_by, updated_at = now()`);
}
