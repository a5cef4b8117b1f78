/**
 * Grants on trashed nodes. Deleting a node keeps its grants (a restore brings them back into force)
 * but the live tree no longer knows the node, so these grants are placed by the node's last path and
 * governed from its nearest live ancestor: listed there, and revocable by whoever may revoke there.
 */
import type { Queryable } from '../db/connection.ts';
import type { TreeModel, TreeNode } from '../tree/index.ts';
import type { GrantRecord } from './acl.ts';
import * as repo from './repo.ts';

/** Where a trashed node stands: its last path, and the live node that now governs it (none for a trashed top level). */
export interface TrashedPlace {
  lastPath: string;
  governor: TreeNode | undefined;
}

/** Trashed node id → place, for the nodes of `grants` that the live tree does not hold. */
export async function placeTrashed(q: Queryable, model: TreeModel, grants: GrantRecord[]): Promise<Map<number, TrashedPlace>> {
  const out = new Map<number, TrashedPlace>();
  const ids = [...new Set(grants.map((g) => g.nodeId).filter((id) => model.get(id) === undefined))];
  if (ids.length === 0) return out;
  const rows = new Map((await repo.trashedAncestry(q, ids)).map((r) => [r.id, r]));
  for (const id of ids) {
    const row = rows.get(id);
    // Absent from the model but live in the database: a change not applied yet, so not trashed.
    if (!row?.trashed) continue;
    out.set(id, { lastPath: row.path, governor: nearestLive(model, rows, row.parentId) });
  }
  return out;
}

function nearestLive(model: TreeModel, rows: Map<number, { parentId: number | null }>, parentId: number | null): TreeNode | undefined {
  // A path of 253 characters has at most 127 levels; the bound only guards against a corrupt parent cycle.
  for (let id = parentId, hops = 0; id !== null && hops < 256; hops++) {
    const live = model.get(id);
    if (live) return live;
    id = rows.get(id)?.parentId ?? null;
  }
  return undefined;
}
