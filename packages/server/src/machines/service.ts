/** Machines: create, change, retire, bind to nodes, list a subtree, bulk import. */
import {
  ConflictError,
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
  type CreateMachineInput,
  type MachineView,
  type PatchMachineInput,
} from '@canopy/core';
import type { Actor, ChangeFeed, WriteContext, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import { TREE_TOPIC, iso, type TreeChange, type TreeNode, type TreeService } from '../tree/index.ts';
import * as repo from './repo.ts';
import { createMachineModel, type MachineLite } from './model.ts';
import type { MachineGuard } from './authz.ts';

export const MACHINE_TOPIC = 'machine';

/** Payload of a machine change: the machines' after images with their node ids. */
export interface MachineChange {
  upsert: (MachineView & { nodeIds: number[] })[];
}

export type MachineService = ReturnType<typeof createMachineService>;

/**
 * An install request a machine being created takes, decided inside the create's transaction by the
 * install system (see provisioning/proof.ts): the node it joins, the placement it copies, and
 * `bound`, which closes the request once the machine has its id.
 */
export interface CreateClaim {
  node: TreeNode;
  /** The node's path as the creator may see it: null when it is hidden from them. */
  shownPath: string | null;
  requestId: number;
  via: string;
  idc: string;
  zone: string;
  bound(w: WriteContext, machineId: number): Promise<void>;
}

/** Finds the claim, if any, a machine about to be created takes. */
export type ClaimHook = (w: WriteContext, m: { hostname: string; serial: string; facts: Record<string, unknown> }) => Promise<CreateClaim | undefined>;

/** The fields of `input` whose value differs from the machine's (by JSON value). */
export function changedFields(before: repo.MachineRow, input: PatchMachineInput): string[] {
  const was = before as unknown as Record<string, unknown>;
  return Object.entries(input).filter(([k, v]) => v !== undefined && JSON.stringify(was[k]) !== JSON.stringify(v)).map(([k]) => k);
}

/** Strong ETag of a machine's current version. */
export function machineEtag(m: { id: number; version: number }): string {
  return `"m${m.id}v${m.version}"`;
}

/** Build the machine service. */
export function createMachineService(deps: { writer: Writer; feed: ChangeFeed; db: Queryable; tree: TreeService }) {
  const { writer, db, tree } = deps;
  const model = createMachineModel(tree.model);
  let claimHook: ClaimHook | undefined;
  tree.setSubtreeCounter((nodeId) => model.subtreeCount(nodeId));
  deps.feed.on(MACHINE_TOPIC, (c) => {
    for (const m of (c.payload as MachineChange).upsert) model.upsert(liteOf(m, m.nodeIds));
  });

  /** Build the view of a changed machine and publish it to every replica's index. */
  function publish(w: WriteContext, m: repo.MachineRow, nodeIds: number[]): MachineView {
    const v = view(m, nodeIds);
    w.emit(MACHINE_TOPIC, { upsert: [{ ...v, nodeIds }] } satisfies MachineChange);
    return v;
  }

  async function publishCurrent(w: WriteContext, m: repo.MachineRow): Promise<MachineView> {
    return publish(w, m, (await repo.nodeIdsOf(w.tx, [m.id])).get(m.id) ?? []);
  }

  function view(m: repo.MachineRow, nodeIds: number[]): MachineView {
    return {
      ...m,
      nodes: nodeIds.map((id) => tree.model.get(id)?.path).filter((p): p is string => p !== undefined).sort(),
      createdAt: iso(m.createdAt),
      updatedAt: iso(m.updatedAt),
    };
  }

  async function viewOf(q: Queryable, m: repo.MachineRow): Promise<MachineView> {
    return view(m, (await repo.nodeIdsOf(q, [m.id])).get(m.id) ?? []);
  }

  function nodesByPath(paths: string[], field: string): TreeNode[] {
    return paths.map((p, i) => {
      const n = tree.model.byPath(p);
      if (!n) throw new ValidationError(`unknown node '${p}'`, [{ path: [field, i], message: `no node '${p}'` }]);
      return n;
    });
  }

  async function nodesIn(q: Queryable, machineId: number): Promise<TreeNode[]> {
    const ids = (await repo.nodeIdsOf(q, [machineId])).get(machineId) ?? [];
    return ids.map((id) => tree.model.get(id)).filter((n): n is TreeNode => n !== undefined);
  }

  /** Lock the machine's row and, when given, let `guard` refuse on its bindings as the transaction sees them. */
  async function lockMachine(w: WriteContext, hostname: string, guard?: MachineGuard): Promise<repo.MachineRow> {
    const m = await repo.byHostname(w.tx, hostname, true);
    if (!m) throw new NotFoundError('machine', hostname);
    guard?.(hostname, await nodesIn(w.tx, m.id));
    return m;
  }

  async function bindIn(w: WriteContext, m: repo.MachineRow, node: TreeNode): Promise<boolean> {
    if (m.status === 'retired') throw new ConflictError(`machine '${m.hostname}' is retired`);
    if (!(await repo.bind(w.tx, m.id, node.id))) return false;
    w.audit({ operation: 'machine.bind', targetKind: 'machine', target: m.hostname, nodeId: node.id, nodePath: node.path, after: { node: node.path } });
    return true;
  }

  async function unbindIn(w: WriteContext, m: repo.MachineRow, node: TreeNode): Promise<boolean> {
    if (!(await repo.unbind(w.tx, m.id, node.id))) return false;
    w.audit({ operation: 'machine.unbind', targetKind: 'machine', target: m.hostname, nodeId: node.id, nodePath: node.path, before: { node: node.path } });
    return true;
  }

  async function emitCounts(w: WriteContext, nodeIds: number[]): Promise<void> {
    if (nodeIds.length) w.emit(TREE_TOPIC, { counts: await repo.countsFor(w.tx, [...new Set(nodeIds)]) } satisfies TreeChange);
  }

  async function createIn(w: WriteContext, input: CreateMachineInput): Promise<MachineView> {
    if (await repo.byHostname(w.tx, input.hostname)) throw new ConflictError(`machine '${input.hostname}' already exists`, { hostname: input.hostname });
    // A node named twice is bound once (the view listed it twice before).
    const bindTo = [...new Map(nodesByPath(input.nodes, 'nodes').map((n) => [n.id, n])).values()];
    const { nodes: _ignored, ...fields } = input;
    // An open install request the machine may take: its node joins the bindings, its placement wins.
    const claim = await claimHook?.(w, input);
    if (claim && !bindTo.some((n) => n.id === claim.node.id)) bindTo.push(claim.node);
    const m = await repo.insert(w.tx, { ...fields, ...(claim?.idc ? { idc: claim.idc } : {}), ...(claim?.zone ? { zone: claim.zone } : {}) });
    for (const n of bindTo) await repo.bind(w.tx, m.id, n.id);
    await claim?.bound(w, m.id);
    const v: MachineView = { ...publish(w, m, bindTo.map((n) => n.id)), ...(claim ? { provisioned: [{ requestId: claim.requestId, nodePath: claim.shownPath, via: claim.via }] } : {}) };
    w.audit({ operation: 'machine.create', targetKind: 'machine', target: m.hostname, nodeId: bindTo[0]?.id ?? null, nodePath: bindTo[0]?.path ?? null, after: v });
    await emitCounts(w, bindTo.map((n) => n.id));
    return v;
  }

  async function patchIn(w: WriteContext, hostname: string, input: PatchMachineInput, expected?: string, guard?: MachineGuard): Promise<MachineView> {
    const before = await lockMachine(w, hostname, guard);
    if (expected !== undefined && expected !== machineEtag(before)) throw new PreconditionFailedError(expected, machineEtag(before));
    // Nothing to change (retiring a retired machine, a repeated PATCH): no version, no audit, no event.
    if (changedFields(before, input).length === 0) return viewOf(w.tx, before);
    const m = await repo.update(w.tx, before.id, input);
    let v = await publishCurrent(w, m);
    const first = v.nodes[0] ? tree.model.byPath(v.nodes[0]) : undefined;
    w.audit({ operation: input.status === 'retired' ? 'machine.retire' : 'machine.update', targetKind: 'machine', target: hostname, nodeId: first?.id ?? null, nodePath: first?.path ?? null, before, after: m });
    // However a machine is retired (the retire route, a PATCH, an import row), it leaves every node:
    // a retired machine serves nothing.
    if (input.status === 'retired') {
      await emitCounts(w, await repo.unbindAll(w.tx, m.id));
      v = publish(w, m, []);
    }
    return v;
  }

  /** Bind the machine to exactly these nodes; returns whether any binding changed. */
  async function setNodesIn(w: WriteContext, hostname: string, paths: string[]): Promise<boolean> {
    const next = new Map(nodesByPath(paths, 'nodes').map((n) => [n.id, n]));
    const m = await lockMachine(w, hostname);
    const current = new Map((await nodesIn(w.tx, m.id)).map((n) => [n.id, n]));
    const changed: number[] = [];
    for (const n of current.values()) if (!next.has(n.id) && (await unbindIn(w, m, n))) changed.push(n.id);
    for (const n of next.values()) if (!current.has(n.id) && (await bindIn(w, m, n))) changed.push(n.id);
    if (changed.length === 0) return false;
    await publishCurrent(w, m);
    await emitCounts(w, changed);
    return true;
  }

  return {
    model,
    view,
    etag: machineEtag,
    /** The live node at a path a view names (routes hide the ones the caller cannot open). */
    nodeByPath: (path: string) => tree.model.byPath(path),

    /** Fill the index from the database (start-up snapshot). */
    async load(q: Queryable): Promise<void> {
      model.load(await repo.loadLite(q));
    },

    async get(hostname: string): Promise<MachineView> {
      const m = await repo.byHostname(db, hostname);
      if (!m) throw new NotFoundError('machine', hostname);
      return viewOf(db, m);
    },

    /** Nodes a machine is bound to (for authorization of machine-level routes). */
    async nodesOf(hostname: string): Promise<TreeNode[]> {
      const m = await repo.byHostname(db, hostname);
      if (!m) throw new NotFoundError('machine', hostname);
      return nodesIn(db, m.id);
    },

    /** Nodes a machine is bound to, read inside the caller's transaction. */
    nodesIn,

    /** Whether a live node has this path now. */
    nodeExists: (path: string) => tree.model.byPath(path) !== undefined,

    /** Where an old path (renamed or moved) points now; reads the path history, so call it outside a write. */
    currentPathOf: async (path: string) => (await tree.resolveOldPath(path))?.path,

    /** The machine's row, locked, inside the caller's transaction. */
    findIn: (q: Queryable, hostname: string) => repo.byHostname(q, hostname, true),

    create: (actor: Actor, input: CreateMachineInput) => writer.run(actor, (w) => createIn(w, input)),

    /** Change fields; `guard` is the caller's authorization, judged on the locked machine's bindings. */
    patch: (actor: Actor, hostname: string, input: PatchMachineInput, ifMatch?: string, guard?: MachineGuard) =>
      writer.run(actor, (w) => patchIn(w, hostname, input, ifMatch, guard)),

    /** Mark retired and unbind from every node: a retired machine serves nothing. */
    retire: (actor: Actor, hostname: string, guard?: MachineGuard) => writer.run(actor, (w) => patchIn(w, hostname, { status: 'retired' }, undefined, guard)),

    /** Bind to one more node; `guard` judges the machine's current bindings. */
    bind: (actor: Actor, path: string, hostname: string, guard?: MachineGuard) =>
      writer.run(actor, async (w) => {
        const node = tree.node(path);
        const m = await lockMachine(w, hostname, guard);
        if (!(await bindIn(w, m, node))) return { machine: await viewOf(w.tx, m), created: false };
        await emitCounts(w, [node.id]);
        return { machine: await publishCurrent(w, m), created: true };
      }),

    unbind: (actor: Actor, path: string, hostname: string) =>
      writer.run(actor, async (w) => {
        const node = tree.node(path);
        const m = await lockMachine(w, hostname);
        if (!(await unbindIn(w, m, node))) throw new NotFoundError('binding', `${hostname} in ${path}`);
        await publishCurrent(w, m);
        await emitCounts(w, [node.id]);
      }),

    /** A page of the machines in a subtree (recursive), filtered, with the total. */
    async list(filter: { under?: string | undefined; status?: string | undefined; zone?: string | undefined; idc?: string | undefined; q?: string | undefined }, limit: number, cursor?: string) {
      const under = filter.under ? tree.node(filter.under).id : undefined;
      const after = cursor ? decodeCursor(cursor) : undefined;
      const { ids, total } = model.query({ ...filter, under }, limit, after);
      const rows = new Map((await repo.byIds(db, ids)).map((m) => [m.id, m]));
      const views = ids.flatMap((id) => {
        const m = rows.get(id);
        return m ? [view(m, model.get(id)?.nodeIds ?? [])] : [];
      });
      const last = views.at(-1);
      return { items: views, total, ...(views.length === limit && last ? { nextCursor: encodeCursor(last.hostname) } : {}) };
    },

    /** Let the install system decide, in each create's transaction, which request the new machine takes. */
    setClaimHook(hook: ClaimHook): void {
      claimHook = hook;
    },

    /**
     * Inside the caller's transaction, bind an existing machine to `node` and copy a non-empty
     * placement onto it (an install request it took later); false when it is gone or retired.
     */
    async placeIn(w: WriteContext, hostname: string, node: TreeNode, placement: { idc: string; zone: string }): Promise<boolean> {
      const m = await repo.byHostname(w.tx, hostname, true);
      if (!m || m.status === 'retired') return false;
      const patch: PatchMachineInput = { ...(placement.idc ? { idc: placement.idc } : {}), ...(placement.zone ? { zone: placement.zone } : {}) };
      const row = changedFields(m, patch).length > 0 ? await repo.update(w.tx, m.id, patch) : m;
      if (row !== m) w.audit({ operation: 'machine.update', targetKind: 'machine', target: hostname, nodeId: node.id, nodePath: node.path, before: { idc: m.idc, zone: m.zone }, after: { idc: row.idc, zone: row.zone } });
      const bound = await bindIn(w, row, node);
      if (bound || row !== m) await publishCurrent(w, row);
      if (bound) await emitCounts(w, [node.id]);
      return true;
    },

    /** Used by import: create, update or re-bind one row inside the caller's transaction. */
    createIn,
    patchIn,
    setNodesIn,
  };
}

function liteOf(m: MachineView, nodeIds: number[]): MachineLite {
  return { id: m.id, hostname: m.hostname, status: m.status, zone: m.zone, idc: m.idc, serial: m.serial, ips: m.ips, nodeIds };
}

function encodeCursor(hostname: string): string {
  return Buffer.from(hostname).toString('base64url');
}

function decodeCursor(cursor: string): string {
  const s = Buffer.from(cursor, 'base64url').toString();
  if (!/^[a-z0-9.-]{1,253}$/.test(s)) throw new ValidationError('invalid cursor', [{ path: ['cursor'], message: 'not a cursor from a previous page' }]);
  return s;
}
