/**
 * How one caller sees the tree. One rule everywhere: a node the caller may open (tree.read) shows in
 * full with the operations they hold there; an ancestor of such a node shows only as a path-only
 * step (no description, labels or company-wide counts); anything else is absent, as if missing.
 */
import { CanopyError, ForbiddenError, NotFoundError, type NodeView, type Operation } from '@canopy/core';
import type { AuthService } from '../auth/index.ts';
import type { Actor } from '../changes/index.ts';
import type { TreeNode } from './model.ts';
import type { TreeService } from './service.ts';

export type TreeLens = ReturnType<typeof treeLens>;

/** The tree as `actor` sees it. */
export function treeLens(tree: TreeService, auth: AuthService, actor: Actor) {
  const opens = (n: TreeNode) => auth.can(actor, 'tree.read', n.id);
  const visible = (n: TreeNode) => auth.acl.visible(actor, n.id);

  /** The node at `path` if the caller may see it at all (to open or as a step); else moved or not found. */
  function seen(path: string): TreeNode {
    const node = tree.model.byPath(path);
    if (!node) throw tree.missing(path, visible);
    if (!visible(node)) throw new NotFoundError('node', path);
    return node;
  }

  return {
    opens,
    visible,

    /** A node's view for this caller: full with `allowed`, or a path-only step. */
    present(v: NodeView): NodeView {
      const node = tree.model.get(v.id);
      if (!node || opens(node)) return { ...v, pathOnly: false, allowed: node ? auth.acl.allowed(actor, node.id) : [] };
      const childCount = tree.model.children(node.id).filter(visible).length;
      return { ...v, description: '', labels: {}, machineCount: 0, subtreeMachineCount: 0, childCount, pathOnly: true, allowed: [] };
    },

    seen,

    /** The node at `path` where the caller holds `op`: 404 (or moved) when unseen, 403 when seen, path-only steps included. */
    need(op: Operation, path: string): TreeNode {
      const node = seen(path);
      if (!auth.can(actor, op, node.id)) throw new ForbiddenError(op, path);
      return node;
    },

    /**
     * Refuse a change that needs tree.write on `parent` (a rename or move re-paths its namespace),
     * saying what is needed: the parent's path is a prefix the caller already knows, or a node they see.
     */
    needWriteOn(parent: TreeNode, doing: string): void {
      if (auth.can(actor, 'tree.write', parent.id)) return;
      throw new CanopyError('forbidden', `${doing} needs tree.write on ${parent.path}`, { operation: 'tree.write', target: parent.path });
    },
  };
}

// Keys whose values are names of other things, never node paths, even when they look like one.
const NOT_PATHS = new Set(['hostname', 'username', 'name', 'actor', 'displayName', 'email', 'description', 'domain', 'uri']);

/**
 * A copy of a recorded value (an audit entry's before/after) in which every string naming a node
 * `mayKnow` rejects, by its current or an old path, is gone: dropped from arrays, '(hidden)' elsewhere.
 */
export function redactPaths(value: unknown, tree: TreeService, mayKnow: (node: TreeNode) => boolean, key = ''): unknown {
  const hidden = (s: string) => {
    if (NOT_PATHS.has(key)) return false;
    const n = tree.model.byPath(s) ?? tree.model.movedFrom(s);
    return n !== undefined && !mayKnow(n);
  };
  if (typeof value === 'string') return hidden(value) ? '(hidden)' : value;
  if (Array.isArray(value)) {
    return value.filter((v) => typeof v !== 'string' || !hidden(v)).map((v) => redactPaths(v, tree, mayKnow, key));
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactPaths(v, tree, mayKnow, k)]));
  }
  return value;
}
