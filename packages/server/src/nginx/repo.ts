/**
 * SQL for the proxy settings tables (nginx and LVS share one shape: a key, the validated settings
 * as jsonb, a version) and for published config versions and their content-addressed files.
 */
import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import { rows, type Queryable } from '../db/connection.ts';
import { configBlobs, configVersions } from './tables.ts';

/** The settings tables; the name is never taken from input. */
export type SettingsTable = 'nginx_domains' | 'nginx_domain_access' | 'nginx_services' | 'nginx_clusters' | 'lvs_services' | 'lvs_clusters';

const KEY_COLUMN: Record<SettingsTable, string> = {
  nginx_domains: 'domain',
  nginx_domain_access: 'domain',
  nginx_services: 'node_id',
  nginx_clusters: 'node_id',
  lvs_services: 'node_id',
  lvs_clusters: 'node_id',
};

/** One settings row; `key` is a domain name or a node id. */
export interface SettingsRow<K extends string | number = string | number, S = unknown> {
  key: K;
  settings: S;
  version: number;
  updatedAt: string;
  /** Who wrote the row last ('' for rows older than migration 0500). */
  updatedBy: string;
}

function toRow(r: Record<string, unknown>): SettingsRow {
  const at = r['updated_at'];
  return {
    key: r['key'] as string | number,
    settings: r['settings'],
    version: Number(r['version']),
    updatedAt: at instanceof Date ? at.toISOString() : new Date(String(at)).toISOString(),
    updatedBy: typeof r['updated_by'] === 'string' ? r['updated_by'] : '',
  };
}

/** Insert or replace one settings row as `by`, bumping its version. */
export async function upsertSettings(q: Queryable, table: SettingsTable, key: string | number, settings: unknown, by: string): Promise<SettingsRow> {
  const t = sql.identifier(table);
  const k = sql.identifier(KEY_COLUMN[table]);
  const [row] = await rows<Record<string, unknown>>(
    q,
    sql`INSERT INTO ${t} (${k}, settings, updated_by) VALUES (${key}, ${JSON.stringify(settings)}::jsonb, ${by})
        ON CONFLICT (${k}) DO UPDATE SET settings = EXCLUDED.settings, version = ${t}.version + 1, updated_at = now(), updated_by = EXCLUDED.updated_by
        RETURNING ${k} AS key, settings, version, updated_at, updated_by`,
  );
  return toRow(row as Record<string, unknown>);
}

/** Delete one settings row; false when there was none. */
export async function deleteSettings(q: Queryable, table: SettingsTable, key: string | number): Promise<boolean> {
  const res = await rows<{ key: unknown }>(
    q,
    sql`DELETE FROM ${sql.identifier(table)} WHERE ${sql.identifier(KEY_COLUMN[table])} = ${key} RETURNING 1 AS key`,
  );
  return res.length > 0;
}

/** Every row of a settings table, for the read model's snapshot. */
export async function loadSettings(q: Queryable, table: SettingsTable): Promise<SettingsRow[]> {
  const res = await rows<Record<string, unknown>>(
    q,
    sql`SELECT ${sql.identifier(KEY_COLUMN[table])} AS key, settings, version, updated_at, updated_by FROM ${sql.identifier(table)}`,
  );
  return res.map(toRow);
}

export type ConfigKind = 'nginx' | 'lvs';
export type VersionRow = typeof configVersions.$inferSelect;
export type VersionSummaryRow = Omit<VersionRow, 'files' | 'diff' | 'checkOutput'>;

const summary = {
  kind: configVersions.kind,
  clusterNodeId: configVersions.clusterNodeId,
  number: configVersions.number,
  sha256: configVersions.sha256,
  inputSha256: configVersions.inputSha256,
  author: configVersions.author,
  reason: configVersions.reason,
  rollbackOf: configVersions.rollbackOf,
  createdAt: configVersions.createdAt,
  added: configVersions.added,
  removed: configVersions.removed,
  automatic: configVersions.automatic,
  prunedAt: configVersions.prunedAt,
};

/** The newest version number of a cluster's config, 0 when none was published. */
export async function latestNumber(q: Queryable, kind: ConfigKind, cluster: number): Promise<number> {
  const [r] = await q
    .select({ n: sql<number>`coalesce(max(${configVersions.number}), 0)::int` })
    .from(configVersions)
    .where(and(eq(configVersions.kind, kind), eq(configVersions.clusterNodeId, cluster)));
  return Number(r?.n ?? 0);
}

/** Store file contents not stored yet. */
export async function putBlobs(q: Queryable, blobs: { sha256: string; content: string }[]): Promise<void> {
  for (const b of blobs) await q.insert(configBlobs).values(b).onConflictDoNothing();
}

/** Which of these blobs the database lacks (pruning deletes blobs, so no replica may assume one is there). */
export async function missingBlobs(q: Queryable, shas: readonly string[]): Promise<Set<string>> {
  const wanted = [...new Set(shas)];
  if (wanted.length === 0) return new Set();
  const found = await q.select({ sha256: configBlobs.sha256 }).from(configBlobs).where(inArray(configBlobs.sha256, wanted));
  const have = new Set(found.map((b) => b.sha256));
  return new Set(wanted.filter((sha) => !have.has(sha)));
}

/** Contents of the named blobs. */
export async function getBlobs(q: Queryable, shas: string[]): Promise<Map<string, string>> {
  if (shas.length === 0) return new Map();
  const found = await q.select().from(configBlobs).where(inArray(configBlobs.sha256, shas));
  return new Map(found.map((b) => [b.sha256, b.content]));
}

export async function insertVersion(q: Queryable, v: typeof configVersions.$inferInsert): Promise<VersionSummaryRow> {
  const [row] = await q.insert(configVersions).values(v).returning(summary);
  return row as VersionSummaryRow;
}

/** One version in full, or undefined. */
export async function getVersion(q: Queryable, kind: ConfigKind, cluster: number, number: number): Promise<VersionRow | undefined> {
  const [row] = await q
    .select()
    .from(configVersions)
    .where(and(eq(configVersions.kind, kind), eq(configVersions.clusterNodeId, cluster), eq(configVersions.number, number)));
  return row;
}

/** Versions of a cluster, newest first, below `before` when given. */
export function listVersions(q: Queryable, kind: ConfigKind, cluster: number, limit: number, before?: number): Promise<VersionSummaryRow[]> {
  const where = [eq(configVersions.kind, kind), eq(configVersions.clusterNodeId, cluster)];
  if (before !== undefined) where.push(lt(configVersions.number, before));
  return q.select(summary).from(configVersions).where(and(...where)).orderBy(desc(configVersions.number)).limit(limit);
}

/** A settings snapshot stored by `putBlobs`, parsed; undefined when missing. */
export async function getInput(q: Queryable, sha: string): Promise<unknown> {
  const text = (await getBlobs(q, [sha])).get(sha);
  return text === undefined ? undefined : JSON.parse(text);
}

function isoOf(at: unknown): string | null {
  return at === null || at === undefined ? null : at instanceof Date ? at.toISOString() : String(at);
}

/** The newest version of every cluster of `kind`, with its settings snapshot (files stay in the database). */
export async function latestVersions(q: Queryable, kind: ConfigKind): Promise<(VersionSummaryRow & { input: unknown })[]> {
  const res = await rows<Record<string, unknown>>(
    q,
    sql`SELECT v.kind, v.cluster_node_id, v.number, v.sha256, v.input_sha256, v.author, v.reason, v.rollback_of, v.created_at,
               v.added, v.removed, v.automatic, v.pruned_at, b.content AS input
        FROM (SELECT DISTINCT ON (cluster_node_id) * FROM config_versions WHERE kind = ${kind} ORDER BY cluster_node_id, number DESC) v
        JOIN config_blobs b ON b.sha256 = v.input_sha256`,
  );
  return res.map((r) => ({
    kind: r['kind'] as ConfigKind,
    clusterNodeId: Number(r['cluster_node_id']),
    number: Number(r['number']),
    sha256: r['sha256'] as string,
    inputSha256: r['input_sha256'] as string,
    author: r['author'] as string,
    reason: r['reason'] as string,
    rollbackOf: r['rollback_of'] === null ? null : Number(r['rollback_of']),
    createdAt: isoOf(r['created_at']) as string,
    added: Number(r['added']),
    removed: Number(r['removed']),
    automatic: r['automatic'] === true,
    prunedAt: isoOf(r['pruned_at']),
    input: JSON.parse(r['input'] as string),
  }));
}

/** Versions pruned per publication at most, so the first prune of a long history holds the write lock briefly. */
const PRUNE_BATCH = 500;

/**
 * Drop the content of the cluster's versions outside the kept set: the newest `keep`, the newest
 * `keep` that operators published (apply, rollback), and the versions any of those rolled back
 * to. Rows stay; their diff and check output are emptied and blobs no kept version of any cluster
 * names are deleted. Returns the pruned version numbers.
 */
export async function pruneVersions(q: Queryable, kind: ConfigKind, cluster: number, keep: number): Promise<number[]> {
  const of = sql`kind = ${kind} AND cluster_node_id = ${cluster}`;
  const pruned = await rows<{ number: number; files: { sha256: string }[]; input_sha256: string }>(
    q,
    sql`WITH recent AS (
          SELECT number, rollback_of FROM config_versions
          WHERE ${of} AND number > (SELECT coalesce(max(number), 0) FROM config_versions WHERE ${of}) - ${keep}
        ), by_operators AS (
          SELECT number, rollback_of FROM config_versions WHERE ${of} AND NOT automatic ORDER BY number DESC LIMIT ${keep}
        ), kept AS (
          SELECT number FROM recent UNION SELECT number FROM by_operators
          UNION SELECT rollback_of FROM recent UNION SELECT rollback_of FROM by_operators
        )
        UPDATE config_versions SET pruned_at = now(), diff = '', check_output = ''
        WHERE ${of} AND number IN (
          SELECT number FROM config_versions
          WHERE ${of} AND pruned_at IS NULL AND number NOT IN (SELECT number FROM kept WHERE number IS NOT NULL)
          ORDER BY number LIMIT ${PRUNE_BATCH})
        RETURNING number, files, input_sha256`,
  );
  const shas = [...new Set(pruned.flatMap((r) => [r.input_sha256, ...r.files.map((f) => f.sha256)]))];
  if (shas.length > 0) {
    // A second statement: it must see the rows the update above just marked.
    await q.execute(sql`DELETE FROM config_blobs b WHERE b.sha256 IN (${sql.join(shas.map((sha) => sql`${sha}`), sql`, `)})
      AND NOT EXISTS (SELECT 1 FROM config_versions v WHERE v.pruned_at IS NULL AND v.input_sha256 = b.sha256)
      AND NOT EXISTS (SELECT 1 FROM config_versions v WHERE v.pruned_at IS NULL AND v.files @> jsonb_build_array(jsonb_build_object('sha256', b.sha256)))`);
  }
  return pruned.map((r) => Number(r.number)).sort((a, b) => a - b);
}
