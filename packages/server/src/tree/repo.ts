/** SQL for the service tree. Every function takes the query runner explicitly. */
import { and, eq, isNull, isNotNull, sql, desc } from 'drizzle-orm';
import { rows, type Queryable } from '../db/connection.ts';
import { machineNodes, nodePathHistory, nodes } from '../db/tables.ts';
import type { TreeNode } from './model.ts';

const columns = {
  id: nodes.id,
  parentId: nodes.parentId,
  name: nodes.name,
  path: nodes.path,
  description: nodes.description,
  labels: nodes.labels,
  version: nodes.version,
  createdAt: nodes.createdAt,
  updatedAt: nodes.updatedAt,
};

/** Every live node, for the read model's snapshot. */
export function loadLiveNodes(q: Queryable): Promise<TreeNode[]> {
  return q.select(columns).from(nodes).where(isNull(nodes.deletedAt));
}

/** Direct machine counts per node. */
export async function loadMachineCounts(q: Queryable): Promise<Map<number, number>> {
  const res = await rows<{ node_id: number; n: string | number }>(
    q,
    sql`SELECT node_id, count(*) AS n FROM machine_nodes GROUP BY node_id`,
  );
  return new Map(res.map((r) => [r.node_id, Number(r.n)]));
}

export async function insertNode(
  q: Queryable,
  v: { parentId: number | null; name: string; path: string; description: string; labels: Record<string, string> },
): Promise<TreeNode> {
  const [row] = await q.insert(nodes).values(v).returning(columns);
  return row as TreeNode;
}

/** Lock the live node at `path` for the rest of the transaction. */
export async function lockLiveNode(q: Queryable, path: string): Promise<TreeNode | undefined> {
  const [row] = await q
    .select(columns)
    .from(nodes)
    .where(and(eq(nodes.path, path), isNull(nodes.deletedAt)))
    .for('update');
  return row;
}

export async function updateNodeFields(
  q: Queryable,
  id: number,
  v: { description?: string | undefined; labels?: Record<string, string> | undefined },
): Promise<TreeNode> {
  const set: Record<string, unknown> = { version: sql`${nodes.version} + 1`, updatedAt: sql`now()` };
  if (v.description !== undefined) set['description'] = v.description;
  if (v.labels !== undefined) set['labels'] = v.labels;
  const [row] = await q.update(nodes).set(set).where(eq(nodes.id, id)).returning(columns);
  return row as TreeNode;
}

/**
 * Re-path a node and its whole live subtree in one statement: the node gets `newPath`, a new name
 * and parent; each descendant's path keeps its tail below the node. Ids never change.
 */
export async function repathSubtree(
  q: Queryable,
  node: TreeNode,
  to: { parentId: number | null; name: string; path: string },
): Promise<TreeNode[]> {
  const oldPath = node.path;
  const moved = await rows<Record<string, unknown>>(
    q,
    sql`UPDATE nodes SET
          path = ${to.path} || substr(path, ${oldPath.length + 1}),
          name = CASE WHEN id = ${node.id} THEN ${to.name} ELSE name END,
          parent_id = CASE WHEN id = ${node.id} THEN ${to.parentId}::integer ELSE parent_id END,
          version = version + 1,
          updated_at = now()
        WHERE deleted_at IS NULL AND (id = ${node.id} OR path LIKE ${likePrefix(oldPath)})
        RETURNING id, parent_id, name, path, description, labels, version, created_at, updated_at`,
  );
  await q.execute(sql`INSERT INTO node_path_history (node_id, old_path, new_path)
    SELECT id, ${oldPath} || substr(path, ${to.path.length + 1}), path FROM nodes
    WHERE deleted_at IS NULL AND (id = ${node.id} OR path LIKE ${likePrefix(to.path)})`);
  return moved.map(fromRaw);
}

/** Whether the node has live children or bound machines: the reasons it cannot be deleted. */
export async function deleteBlockers(q: Queryable, id: number): Promise<{ children: number; machines: number }> {
  const [r] = await rows<{ children: string | number; machines: string | number }>(
    q,
    sql`SELECT (SELECT count(*) FROM nodes WHERE parent_id = ${id} AND deleted_at IS NULL) AS children,
               (SELECT count(*) FROM machine_nodes WHERE node_id = ${id}) AS machines`,
  );
  return { children: Number(r?.children ?? 0), machines: Number(r?.machines ?? 0) };
}

export async function markDeleted(q: Queryable, id: number): Promise<void> {
  await q.update(nodes).set({ deletedAt: sql`now()`, version: sql`${nodes.version} + 1` }).where(eq(nodes.id, id));
}

export function listTrash(q: Queryable): Promise<{ id: number; path: string; deletedAt: string | null; parentId: number | null }[]> {
  return q
    .select({ id: nodes.id, path: nodes.path, deletedAt: nodes.deletedAt, parentId: nodes.parentId })
    .from(nodes)
    .where(isNotNull(nodes.deletedAt))
    .orderBy(desc(nodes.deletedAt))
    .limit(1000);
}

export async function lockTrashed(q: Queryable, id: number): Promise<(TreeNode & { deletedAt: string | null }) | undefined> {
  const [row] = await q
    .select({ ...columns, deletedAt: nodes.deletedAt })
    .from(nodes)
    .where(and(eq(nodes.id, id), isNotNull(nodes.deletedAt)))
    .for('update');
  return row;
}

/** Lock the node with this id, live or trashed, for the rest of the transaction. */
export async function lockById(q: Queryable, id: number): Promise<(TreeNode & { deletedAt: string | null }) | undefined> {
  const [row] = await q
    .select({ ...columns, deletedAt: nodes.deletedAt })
    .from(nodes)
    .where(eq(nodes.id, id))
    .for('update');
  return row;
}

/**
 * Bring a trashed node back at `path` (its parent's current path and its name). A path that differs
 * from the one it was trashed with is recorded as a rename records it, so the old one keeps resolving.
 * The node has no live descendants to carry along: a node with live children cannot be deleted, and
 * nothing can be created or moved under a trashed one. Trashed descendants keep their last paths
 * until they are restored in turn.
 */
export async function undeleteAt(q: Queryable, node: TreeNode, path: string): Promise<TreeNode> {
  const [row] = await q
    .update(nodes)
    .set({ deletedAt: null, path, version: sql`${nodes.version} + 1`, updatedAt: sql`now()` })
    .where(eq(nodes.id, node.id))
    .returning(columns);
  if (path !== node.path) await q.insert(nodePathHistory).values({ nodeId: node.id, oldPath: node.path, newPath: path });
  return row as TreeNode;
}

/** Every old path with the node it last belonged to, for the read model. */
export async function loadOldPaths(q: Queryable): Promise<Map<string, number>> {
  const res = await rows<{ old_path: string; node_id: number }>(
    q,
    sql`SELECT DISTINCT ON (old_path) old_path, node_id FROM node_path_history ORDER BY old_path, changed_at DESC`,
  );
  return new Map(res.map((r) => [r.old_path, r.node_id]));
}

/** Where an old path points now, following renames and moves. */
export async function resolveOldPath(q: Queryable, oldPath: string): Promise<number | undefined> {
  const [row] = await q
    .select({ nodeId: nodePathHistory.nodeId })
    .from(nodePathHistory)
    .where(eq(nodePathHistory.oldPath, oldPath))
    .orderBy(desc(nodePathHistory.changedAt))
    .limit(1);
  return row?.nodeId;
}

export async function machineCountOf(q: Queryable, nodeId: number): Promise<number> {
  const [r] = await q.select({ n: sql<number>`count(*)::int` }).from(machineNodes).where(eq(machineNodes.nodeId, nodeId));
  return r?.n ?? 0;
}

/** `LIKE` pattern for strict descendants of `path`; node names cannot hold `%` or `_`, no escape needed. */
export function likePrefix(path: string): string {
  return `${path}.%`;
}

function fromRaw(r: Record<string, unknown>): TreeNode {
  return {
    id: r['id'] as number,
    parentId: (r['parent_id'] as number | null) ?? null,
    name: r['name'] as string,
    path: r['path'] as string,
    description: r['description'] as string,
    labels: r['labels'] as Record<string, string>,
    version: r['version'] as number,
    createdAt: toIso(r['created_at']),
    updatedAt: toIso(r['updated_at']),
  };
}

function toIso(v: unknown): string {
  return v instanceof Date ? v.toISOString() : String(v);
}
