/** The service tree's domain operations. Reads come from the in-memory model; writes go through the writer. */
import {
  ConflictError,
  MovedError,
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
  isWithin,
  joinPath,
  type CreateNodeInput,
  type NodeView,
  type PatchNodeInput,
} from '@canopy/core';
import type { Actor, ChangeFeed, WriteContext, Writer } from '../changes/index.ts';
import type { Queryable, Tx } from '../db/connection.ts';
import { createTreeModel, type TreeModel, type TreeNode } from './model.ts';
import * as repo from './repo.ts';
import { restoreNode } from './restore.ts';

export const TREE_TOPIC = 'tree';

/** Payload of a tree change: after images to upsert, ids to drop, machine counts to set. */
export interface TreeChange {
  upsert?: TreeNode[];
  remove?: number[];
  counts?: [number, number][];
}

export interface ListOptions {
  under?: string | undefined;
  depth: number;
  q?: string | undefined;
  label?: string | undefined;
  limit: number;
  /** Only nodes this predicate admits (authorization). */
  visible?: ((node: TreeNode) => boolean) | undefined;
  /** Nodes whose description and labels the search may look at; others match by name and path only. */
  opens?: ((node: TreeNode) => boolean) | undefined;
}

export type TreeService = ReturnType<typeof createTreeService>;

/**
 * A check another capability registers so that deleting a node cannot strand what it keeps there
 * (aliases, nginx routes, LVS virtual services, clusters…): given the node and every node beneath
 * it, inside the delete's transaction, it answers why they are still needed, one sentence each
 * naming what to do first; none means go ahead. The tree stays ignorant of those capabilities.
 */
export type DeleteGuard = (nodes: readonly TreeNode[], tx: Tx) => string[] | Promise<string[]>;

/** Build the tree service and subscribe its model to the change feed. */
export function createTreeService(deps: { writer: Writer; feed: ChangeFeed; db: Queryable }) {
  const { writer, feed } = deps;
  const model: TreeModel = createTreeModel();
  // Distinct machines per subtree come from the machine index, which is built on top of the tree.
  let subtreeCounter: ((nodeId: number) => number) | undefined;
  const deleteGuards: DeleteGuard[] = [];

  feed.on(TREE_TOPIC, (c) => applyChange(model, c.payload as TreeChange));

  function mustGet(path: string): TreeNode {
    const node = model.byPath(path);
    if (!node) throw new NotFoundError('node', path);
    return node;
  }

  function view(n: TreeNode): NodeView {
    const parent = n.parentId === null ? null : model.get(n.parentId);
    return {
      id: n.id,
      name: n.name,
      path: n.path,
      parentPath: parent ? parent.path : null,
      description: n.description,
      labels: n.labels,
      version: n.version,
      createdAt: iso(n.createdAt),
      updatedAt: iso(n.updatedAt),
      machineCount: model.machineCount(n.id),
      subtreeMachineCount: subtreeCounter ? subtreeCounter(n.id) : model.subtreeMachineCount(n.id),
      childCount: model.children(n.id).length,
      pathOnly: false,
      allowed: [],
    };
  }

  function checkVersion(node: TreeNode, ifMatch: string | undefined): void {
    if (ifMatch !== undefined && ifMatch !== etagOf(node)) throw new PreconditionFailedError(ifMatch, etagOf(node));
  }

  async function lock(w: WriteContext, path: string): Promise<TreeNode> {
    const node = await repo.lockLiveNode(w.tx, path);
    if (!node) throw new NotFoundError('node', path);
    return node;
  }

  async function repath(w: WriteContext, node: TreeNode, to: { parentId: number | null; name: string; path: string }) {
    if (model.byPath(to.path)) throw new ConflictError(`a node already exists at '${to.path}'`, { path: to.path });
    const moved = await repo.repathSubtree(w.tx, node, to);
    w.emit(TREE_TOPIC, { upsert: moved } satisfies TreeChange);
    return moved.find((m) => m.id === node.id) as TreeNode;
  }

  return {
    model,
    view,
    /** Run `guard` before every node delete: its reasons refuse the delete (see DeleteGuard). */
    addDeleteGuard(guard: DeleteGuard): void {
      deleteGuards.push(guard);
    },
    /** Count a machine bound to several nodes of a subtree once (set by the machines capability). */
    setSubtreeCounter(fn: (nodeId: number) => number): void {
      subtreeCounter = fn;
    },
    get: (path: string) => view(mustGet(path)),
    /**
     * The error for a path naming no live node: "moved" with the new path when the path is an old one
     * and `mayKnow` admits the node now there, else a plain not-found.
     */
    missing(path: string, mayKnow: (node: TreeNode) => boolean): MovedError | NotFoundError {
      const moved = model.movedFrom(path);
      return moved && mayKnow(moved) ? new MovedError('node', path, moved.path) : new NotFoundError('node', path);
    },
    node: mustGet,
    etag: (path: string) => etagOf(mustGet(path)),

    /** Nodes under `under` (or the roots) down to `depth` levels, filtered by name/label search. */
    list(opts: ListOptions): NodeView[] {
      const out: NodeView[] = [];
      const label = parseLabel(opts.label);
      const q = opts.q?.toLowerCase();
      const opens = (n: TreeNode) => !opts.opens || opts.opens(n);
      const matches = (n: TreeNode) =>
        (!q || n.name.includes(q) || n.path.includes(q) || (opens(n) && n.description.toLowerCase().includes(q))) &&
        (!label || (opens(n) && (label.value === undefined ? label.key in n.labels : n.labels[label.key] === label.value))) &&
        (!opts.visible || opts.visible(n));
      const searching = q !== undefined || label !== undefined;
      const start = opts.under ? [mustGet(opts.under)] : model.children(null);
      const maxDepth = searching ? 64 : opts.depth;
      // Breadth-first so a limited answer holds the shallowest nodes.
      let level = opts.under ? start.flatMap((n) => model.children(n.id)) : start;
      for (let d = 1; d <= maxDepth && level.length > 0 && out.length < opts.limit; d++) {
        for (const n of level) {
          if (out.length >= opts.limit) break;
          if (matches(n)) out.push(view(n));
        }
        level = level.flatMap((n) => model.children(n.id));
      }
      return out;
    },

    async create(actor: Actor, input: CreateNodeInput): Promise<NodeView> {
      const created = await writer.run(actor, async (w) => {
        let parentId: number | null = null;
        if (input.parentPath !== null) parentId = (await lock(w, input.parentPath)).id;
        const path = joinPath(input.parentPath, input.name);
        if (model.byPath(path)) throw new ConflictError(`a node already exists at '${path}'`, { path });
        const node = await repo.insertNode(w.tx, { parentId, name: input.name, path, description: input.description, labels: input.labels });
        w.audit({ operation: 'tree.create', targetKind: 'node', target: path, nodeId: node.id, nodePath: path, after: node });
        w.emit(TREE_TOPIC, { upsert: [node] } satisfies TreeChange);
        return node;
      });
      return view(model.get(created.id) ?? created);
    },

    async patch(actor: Actor, path: string, input: PatchNodeInput, ifMatch?: string): Promise<NodeView> {
      const id = await writer.run(actor, async (w) => {
        let node = await lock(w, path);
        checkVersion(node, ifMatch);
        const before = node;
        if (input.name !== undefined && input.name !== node.name) {
          const parent = node.parentId === null ? null : model.get(node.parentId);
          node = await repath(w, node, { parentId: node.parentId, name: input.name, path: joinPath(parent?.path ?? null, input.name) });
        }
        if (input.description !== undefined || input.labels !== undefined) {
          node = await repo.updateNodeFields(w.tx, node.id, input);
          w.emit(TREE_TOPIC, { upsert: [node] } satisfies TreeChange);
        }
        w.audit({ operation: input.name && input.name !== before.name ? 'tree.rename' : 'tree.update', targetKind: 'node', target: node.path, nodeId: node.id, nodePath: node.path, before, after: node });
        return node.id;
      });
      return view(model.get(id) as TreeNode);
    },

    async move(actor: Actor, path: string, parentPath: string | null, ifMatch?: string): Promise<NodeView> {
      const id = await writer.run(actor, async (w) => {
        const node = await lock(w, path);
        checkVersion(node, ifMatch);
        let parentId: number | null = null;
        if (parentPath !== null) {
          if (isWithin(parentPath, node.path)) {
            throw new ValidationError(`cannot move '${path}' under itself or its descendant '${parentPath}'`, [
              { path: ['parentPath'], message: 'is the node itself or one of its descendants' },
            ]);
          }
          parentId = (await lock(w, parentPath)).id;
        }
        if (parentId === node.parentId) return node.id;
        const moved = await repath(w, node, { parentId, name: node.name, path: joinPath(parentPath, node.name) });
        w.audit({ operation: 'tree.move', targetKind: 'node', target: moved.path, nodeId: node.id, nodePath: moved.path, before: { path: node.path }, after: { path: moved.path } });
        return node.id;
      });
      return view(model.get(id) as TreeNode);
    },

    async remove(actor: Actor, path: string, ifMatch?: string): Promise<void> {
      await writer.run(actor, async (w) => {
        const node = await lock(w, path);
        checkVersion(node, ifMatch);
        const blockers = await repo.deleteBlockers(w.tx, node.id);
        const has = [blockers.children > 0 && `${blockers.children} child node(s)`, blockers.machines > 0 && `${blockers.machines} machine(s)`].filter((x) => typeof x === 'string');
        // Every other capability's reasons too, for the node and all beneath it, so one answer lists them all.
        const subtree: TreeNode[] = [];
        for (let level = [node]; level.length > 0; level = level.flatMap((n) => model.children(n.id))) subtree.push(...level);
        const reasons: string[] = [];
        for (const guard of deleteGuards) reasons.push(...(await guard(subtree, w.tx)));
        if (has.length > 0) reasons.unshift(`'${path}' still has ${has.join(' and ')}`);
        if (reasons.length > 0) throw new ConflictError(`node '${path}' cannot be deleted: ${reasons.join('; ')}`, { ...blockers, reasons });
        await repo.markDeleted(w.tx, node.id);
        w.audit({ operation: 'tree.delete', targetKind: 'node', target: path, nodeId: node.id, nodePath: path, before: node });
        w.emit(TREE_TOPIC, { remove: [node.id] } satisfies TreeChange);
      });
    },

    trash: () => repo.listTrash(deps.db),

    /** Where restoring a trashed node would put it now; null while its parent is in the trash too. */
    restorePathOf(t: { path: string; parentId: number | null }): string | null {
      const name = t.path.slice(t.path.lastIndexOf('.') + 1);
      if (t.parentId === null) return name;
      const parent = model.get(t.parentId);
      return parent ? `${parent.path}.${name}` : null;
    },

    /** Restore a trashed node under its parent's current path (see restore.ts). */
    async restore(actor: Actor, id: number): Promise<NodeView> {
      await writer.run(actor, async (w) => {
        const { before, after } = await restoreNode(w, model, id);
        w.audit({ operation: 'tree.restore', targetKind: 'node', target: after.path, nodeId: id, nodePath: after.path, before: { path: before.path }, after });
        w.emit(TREE_TOPIC, { upsert: [after] } satisfies TreeChange);
      });
      return view(model.get(id) as TreeNode);
    },

    /** The node an old path now names, after renames and moves. */
    async resolveOldPath(path: string): Promise<NodeView | undefined> {
      const live = model.byPath(path);
      if (live) return view(live);
      const id = await repo.resolveOldPath(deps.db, path);
      const node = id === undefined ? undefined : model.get(id);
      return node && view(node);
    },

    /** Fill the model from the database (start-up snapshot). */
    async load(q: Queryable): Promise<void> {
      model.load(await repo.loadLiveNodes(q), await repo.loadMachineCounts(q), await repo.loadOldPaths(q));
    },
  };
}

function applyChange(model: TreeModel, c: TreeChange): void {
  if (c.upsert) model.upsert(c.upsert);
  if (c.remove) model.remove(c.remove);
  for (const [nodeId, count] of c.counts ?? []) model.addMachineCount(nodeId, count - model.machineCount(nodeId));
}

/** Strong ETag of a node's current version. */
export function etagOf(node: { id: number; version: number }): string {
  return `"n${node.id}v${node.version}"`;
}

function parseLabel(label: string | undefined): { key: string; value: string | undefined } | undefined {
  if (!label) return undefined;
  const i = label.indexOf('=');
  return i < 0 ? { key: label, value: undefined } : { key: label.slice(0, i), value: label.slice(i + 1) };
}

/** Normalise a database timestamp to ISO 8601. */
export function iso(ts: string): string {
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? ts : d.toISOString();
}
