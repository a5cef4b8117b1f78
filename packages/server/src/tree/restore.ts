/**
 * Restoring a node from the trash. A trashed node keeps the path it had when it was deleted, but its
 * parent may have been renamed or moved since (the tree never re-paths trashed rows), so the node
 * comes back under its parent's current path, not at its last one.
 */
import { ConflictError, NotFoundError, joinPath } from '@canopy/core';
import type { WriteContext } from '../changes/index.ts';
import type { TreeModel, TreeNode } from './model.ts';
import * as repo from './repo.ts';

/** The node as it was in the trash and as it is now. */
export interface Restored {
  before: TreeNode;
  after: TreeNode;
}

/** Bring trashed node `id` back under its parent's current path; refuses, changing nothing, when it cannot. */
export async function restoreNode(w: WriteContext, model: TreeModel, id: number): Promise<Restored> {
  const node = await repo.lockTrashed(w.tx, id);
  if (!node) throw new NotFoundError('trashed node', String(id));
  const path = joinPath(await currentParentPath(w, node), node.name);
  if (model.byPath(path)) {
    const where = path === node.path ? `'${path}'` : `'${node.path}' as '${path}'`;
    throw new ConflictError(`cannot restore ${where}: a live node already has that path; rename or delete it first`, { path, id });
  }
  const { deletedAt: _, ...before } = node;
  return { before, after: await repo.undeleteAt(w.tx, before, path) };
}

/** The path of the node's parent now, locked so it cannot be renamed, moved or deleted under us. */
async function currentParentPath(w: WriteContext, node: TreeNode): Promise<string | null> {
  if (node.parentId === null) return null;
  const parent = await repo.lockById(w.tx, node.parentId);
  // The foreign key keeps the parent row; this only guards against a hand-edited database.
  if (!parent) throw new NotFoundError('node', String(node.parentId));
  if (parent.deletedAt !== null) {
    throw new ConflictError(`cannot restore '${node.path}': its parent '${parent.path}' is in the trash (id ${parent.id}); restore the parent first`, {
      path: node.path,
      parentId: parent.id,
      parentPath: parent.path,
    });
  }
  return parent.path;
}
