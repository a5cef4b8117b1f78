/** The only SQL of the artifact repository. */
import { sql } from 'drizzle-orm';
import { rows, type Queryable } from '../db/connection.ts';

export interface ArtifactRow {
  id: number;
  nodeId: number;
  version: string;
  sha256: string;
  size: number;
  commit: string | null;
  builder: string | null;
  buildId: number | null;
  log: string | null;
  createdBy: string;
  createdAt: string;
  deployedAt: string | null;
}

export type NewArtifact = Omit<ArtifactRow, 'id' | 'createdAt' | 'deployedAt'>;

const COLUMNS = sql`id, node_id AS "nodeId", version, sha256, size::float8 AS size, commit_id AS "commit", builder,
  build_id AS "buildId", log_ref AS "log", created_by AS "createdBy", created_at AS "createdAt", deployed_at AS "deployedAt"`;

/** One version of a node's artifacts. */
export async function findVersion(q: Queryable, nodeId: number, version: string): Promise<ArtifactRow | undefined> {
  const [row] = await rows<ArtifactRow>(q, sql`SELECT ${COLUMNS} FROM artifacts WHERE node_id = ${nodeId} AND version = ${version}`);
  return row;
}

/** Insert a version (the caller checked it is new, under the write lock). */
export async function insertArtifact(q: Queryable, a: NewArtifact): Promise<ArtifactRow> {
  const [row] = await rows<ArtifactRow>(q, sql`INSERT INTO artifacts (node_id, version, sha256, size, commit_id, builder, build_id, log_ref, created_by)
    VALUES (${a.nodeId}, ${a.version}, ${a.sha256}, ${a.size}, ${a.commit}, ${a.builder}, ${a.buildId}, ${a.log}, ${a.createdBy})
    RETURNING ${COLUMNS}`);
  return row!;
}

/** Versions of the nodes `nodeIds`, newest first, below id `before` when paging. */
export async function listVersions(q: Queryable, nodeIds: number[], limit: number, before?: number): Promise<ArtifactRow[]> {
  if (nodeIds.length === 0) return [];
  return rows<ArtifactRow>(q, sql`SELECT ${COLUMNS} FROM artifacts
    WHERE node_id = ANY(${`{${nodeIds.map((n) => Math.trunc(n)).join(',')}}`}::int[]) ${before ? sql`AND id < ${before}` : sql``}
    ORDER BY id DESC LIMIT ${limit}`);
}

/** Every version of one node (retention looks at them all). */
export async function versionsOf(q: Queryable, nodeId: number): Promise<ArtifactRow[]> {
  return rows<ArtifactRow>(q, sql`SELECT ${COLUMNS} FROM artifacts WHERE node_id = ${nodeId} ORDER BY id DESC`);
}

/** Delete versions of a node; returns the deleted rows. */
export async function deleteVersions(q: Queryable, nodeId: number, versions: string[]): Promise<ArtifactRow[]> {
  if (versions.length === 0) return [];
  return rows<ArtifactRow>(q, sql`DELETE FROM artifacts WHERE node_id = ${nodeId}
    AND version IN (SELECT jsonb_array_elements_text(${JSON.stringify(versions)}::jsonb)) RETURNING ${COLUMNS}`);
}

/** Of `shas`, those no artifact row names any more (their blobs may go). */
export async function unreferenced(q: Queryable, shas: string[]): Promise<string[]> {
  if (shas.length === 0) return [];
  const used = await rows<{ sha256: string }>(q, sql`SELECT DISTINCT sha256 FROM artifacts
    WHERE sha256 IN (SELECT jsonb_array_elements_text(${JSON.stringify(shas)}::jsonb))`);
  const taken = new Set(used.map((r) => r.sha256));
  return [...new Set(shas)].filter((s) => !taken.has(s));
}

/** Record that a deployment of the version started now. */
export async function markDeployed(q: Queryable, nodeId: number, version: string): Promise<boolean> {
  const out = await rows<{ id: number }>(q, sql`UPDATE artifacts SET deployed_at = now() WHERE node_id = ${nodeId} AND version = ${version} RETURNING id`);
  return out.length > 0;
}

/** Nodes holding at least one version (the periodic retention sweep visits these). */
export async function nodesWithArtifacts(q: Queryable): Promise<number[]> {
  const out = await rows<{ nodeId: number }>(q, sql`SELECT DISTINCT node_id AS "nodeId" FROM artifacts`);
  return out.map((r) => r.nodeId);
}

/** Total versions and bytes under the nodes (bytes counted per version, shared blobs included). */
export async function totals(q: Queryable, nodeIds: number[]): Promise<{ versions: number; bytes: number }> {
  if (nodeIds.length === 0) return { versions: 0, bytes: 0 };
  const [row] = await rows<{ versions: number; bytes: number }>(q, sql`SELECT count(*)::int AS versions, COALESCE(sum(size), 0)::float8 AS bytes
    FROM artifacts WHERE node_id = ANY(${`{${nodeIds.map((n) => Math.trunc(n)).join(',')}}`}::int[])`);
  return row ?? { versions: 0, bytes: 0 };
}
