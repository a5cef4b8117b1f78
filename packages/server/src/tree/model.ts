/** The in-memory tree: every live node by id and by path, children, and machine counts. */
import { isWithin } from '@canopy/core';

export interface TreeNode {
  id: number;
  parentId: number | null;
  name: string;
  path: string;
  description: string;
  labels: Record<string, string>;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface TreeModel {
  get(id: number): TreeNode | undefined;
  byPath(path: string): TreeNode | undefined;
  children(id: number | null): TreeNode[];
  /** Ids of the node and everything beneath it. */
  subtreeIds(id: number): number[];
  /** The node's ancestors, root first, not including itself. */
  ancestors(id: number): TreeNode[];
  /** Number of machines bound directly to the node. */
  machineCount(id: number): number;
  /** Sum of direct machine counts over the subtree. */
  subtreeMachineCount(id: number): number;
  size(): number;
  all(): Iterable<TreeNode>;
  /** Bumped on every structural change, so derived caches know when to drop. */
  generation(): number;
  /** The live node an old path (before a rename or move) names now; undefined for a live or unknown path. */
  movedFrom(path: string): TreeNode | undefined;
  /** Replace the whole model from a snapshot; `oldPaths` maps each old path to its node's id. */
  load(nodes: TreeNode[], counts: Map<number, number>, oldPaths?: Map<string, number>): void;
  /** Insert or replace nodes (after images of a write). */
  upsert(nodes: TreeNode[]): void;
  remove(ids: number[]): void;
  addMachineCount(nodeId: number, delta: number): void;
}

const ROOT = 0;

/** An empty tree model; the tree capability loads and feeds it. */
export function createTreeModel(): TreeModel {
  const byId = new Map<number, TreeNode>();
  const byPath = new Map<string, TreeNode>();
  const kids = new Map<number, Set<number>>();
  const counts = new Map<number, number>();
  // Old path → node id, so every route can say where a renamed or moved node went without a query.
  const oldPaths = new Map<string, number>();
  // Last paths of trashed nodes: a restore elsewhere turns them into old paths too.
  const trashedAt = new Map<number, string>();
  let gen = 0;

  function detach(node: TreeNode): void {
    byPath.delete(node.path);
    kids.get(node.parentId ?? ROOT)?.delete(node.id);
  }

  function attach(node: TreeNode): void {
    byId.set(node.id, node);
    byPath.set(node.path, node);
    const key = node.parentId ?? ROOT;
    let set = kids.get(key);
    if (!set) kids.set(key, (set = new Set()));
    set.add(node.id);
  }

  function subtreeIds(id: number): number[] {
    const out: number[] = [];
    const stack = [id];
    while (stack.length > 0) {
      const cur = stack.pop() as number;
      if (!byId.has(cur)) continue;
      out.push(cur);
      for (const k of kids.get(cur) ?? []) stack.push(k);
    }
    return out;
  }

  const sortByName = (a: TreeNode, b: TreeNode) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

  return {
    get: (id) => byId.get(id),
    byPath: (path) => byPath.get(path),
    children(id) {
      const out: TreeNode[] = [];
      for (const k of kids.get(id ?? ROOT) ?? []) {
        const n = byId.get(k);
        if (n) out.push(n);
      }
      return out.sort(sortByName);
    },
    subtreeIds,
    ancestors(id) {
      const out: TreeNode[] = [];
      let cur = byId.get(id);
      while (cur && cur.parentId !== null) {
        cur = byId.get(cur.parentId);
        if (cur) out.push(cur);
      }
      return out.reverse();
    },
    machineCount: (id) => counts.get(id) ?? 0,
    subtreeMachineCount(id) {
      let sum = 0;
      for (const k of subtreeIds(id)) sum += counts.get(k) ?? 0;
      return sum;
    },
    size: () => byId.size,
    all: () => byId.values(),
    generation: () => gen,
    movedFrom(path) {
      if (byPath.has(path)) return undefined;
      const id = oldPaths.get(path);
      return id === undefined ? undefined : byId.get(id);
    },
    load(nodes, machineCounts, history = new Map()) {
      gen++;
      byId.clear();
      byPath.clear();
      kids.clear();
      counts.clear();
      oldPaths.clear();
      trashedAt.clear();
      for (const n of nodes) attach(n);
      for (const [k, v] of machineCounts) counts.set(k, v);
      for (const [p, id] of history) oldPaths.set(p, id);
    },
    upsert(nodes) {
      gen++;
      for (const n of nodes) {
        const old = byId.get(n.id);
        if (old) detach(old);
        const was = old?.path ?? trashedAt.get(n.id);
        if (was !== undefined && was !== n.path) oldPaths.set(was, n.id);
        trashedAt.delete(n.id);
      }
      for (const n of nodes) attach(n);
    },
    remove(ids) {
      gen++;
      for (const id of ids) {
        const old = byId.get(id);
        if (!old) continue;
        detach(old);
        trashedAt.set(id, old.path);
        byId.delete(id);
        counts.delete(id);
      }
    },
    addMachineCount(nodeId, delta) {
      counts.set(nodeId, (counts.get(nodeId) ?? 0) + delta);
    },
  };
}

/** True when `node` is `ancestor` or lies beneath it. */
export function nodeWithin(node: TreeNode, ancestor: TreeNode): boolean {
  return isWithin(node.path, ancestor.path);
}
