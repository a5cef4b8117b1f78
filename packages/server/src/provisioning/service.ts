/**
 * The install system. A request records which node a machine being installed belongs to, so the
 * ENC can classify the machine before it is in the tree. When the machine appears it is bound to
 * that node, takes the request's IDC and zone, and the request closes — but only a machine that
 * proves it is the one requested (proof.ts): one created by someone with machine.write on the
 * request's node (decided inside the create's transaction, so the create's answer shows it), one
 * whose serial/MAC match the request (checked again whenever the machine changes, e.g. its agent
 * reporting facts), or one whose agent enrollment verified it (`bindVerified`). Requests past their
 * expiry count as expired at once (lazily) and are marked so by a periodic sweep, which also
 * retries binds an event may have missed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError, type Operation } from '@canopy/core';
import type { Actor, ChangeFeed, WriteContext, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import { MACHINE_TOPIC, type MachineService } from '../machines/index.ts';
import { iso, type TreeNode, type TreeService } from '../tree/index.ts';
import { proofOf, type Candidate, type ClaimVia } from './proof.ts';
import * as repo from './repo.ts';
import type { CreateProvisioningInput, ProvisioningView } from './schema.ts';
import type { ProvisioningState } from './tables.ts';

export const PROVISIONING_TOPIC = 'provisioning';

/** Every enrollment token starts with this, so a leaked one is recognisable (and never a `cnm_` credential). */
export const ENROLLMENT_TOKEN_PREFIX = 'cne_';

/** How an enrollment token is stored: its SHA-256, hex. */
export const tokenHashOf = (token: string) => createHash('sha256').update(token).digest('hex');

/** The actor binds and expiries are recorded under. */
export const PROVISIONING_ACTOR: Actor = Object.freeze({ kind: 'system', id: null, name: 'provisioning', superuser: true });

/** An open request as the ENC needs it. */
export interface OpenRequest {
  id: number;
  hostname: string;
  nodeId: number;
  idc: string;
  zone: string;
  serial: string;
  mac: string;
  expiresAt: number;
}

/** Decides whether the machine (as the bind's transaction reads it) may take the request, and why. */
type Decide = (row: repo.RequestRow, machine: Candidate, nodes: TreeNode[]) => ClaimVia | undefined;

export interface ProvisioningOptions {
  /** Hours a request stays open unless it names its own TTL. */
  ttlHours: number;
  /** Milliseconds between sweeps (expiry, missed binds); 0 turns the timer off. */
  sweepMs: number;
  onError?: ((err: unknown) => void) | undefined;
}

export type ProvisioningService = ReturnType<typeof createProvisioningService>;

/** Build the install system and subscribe it to its own topic and to machine changes. */
export function createProvisioningService(
  deps: { writer: Writer; feed: ChangeFeed; db: Queryable; tree: TreeService; machines: MachineService; auth: { can(actor: Actor, op: Operation, nodeId: number): boolean } },
  opts: ProvisioningOptions,
) {
  const { writer, feed, db, tree, machines, auth } = deps;
  const onError = opts.onError ?? (() => {});
  const open = new Map<string, OpenRequest>();
  const pending = new Map<string, Promise<void>>();
  const again = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let first: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> | null = null;
  let stopped = false;

  feed.on(PROVISIONING_TOPIC, (c) => apply((c.payload as { upsert: repo.RequestRow[] }).upsert));
  // Handlers are synchronous and may run inside another write's transaction: queue the bind.
  // Only a machine whose facts now match what the request names can take it this way.
  feed.on(MACHINE_TOPIC, (c) => {
    for (const m of (c.payload as { upsert?: (Candidate & { hostname: string; status: string })[] }).upsert ?? []) {
      const r = m.status === 'retired' ? undefined : openFor(m.hostname);
      if (r && proofOf(r, m)) schedule(m.hostname);
    }
  });
  machines.setClaimHook(claimOnCreate);

  const expired = (r: repo.RequestRow) => Date.parse(iso(r.expiresAt)) <= Date.now();

  /** The creator vouches for the machine with machine.write on the request's node. */
  function vouches(actor: Actor, node: TreeNode): boolean {
    return actor.superuser || auth.can(actor, 'machine.write', node.id);
  }

  /** Close the request as bound, in the bind's transaction. */
  async function closeBound(w: WriteContext, row: repo.RequestRow, node: TreeNode, machineId: number, via: ClaimVia): Promise<void> {
    const closed = await repo.close(w.tx, row.id, 'bound', machineId);
    w.audit({ operation: 'provisioning.bind', targetKind: 'provisioning', target: row.hostname, nodeId: node.id, nodePath: node.path, after: { id: row.id, machineId, via } });
    w.emit(PROVISIONING_TOPIC, { upsert: [closed] });
  }

  // Runs inside every machine create's transaction (machines.setClaimHook).
  async function claimOnCreate(w: WriteContext, m: Candidate & { hostname: string }) {
    if (!openFor(m.hostname)) return undefined;
    const row = await repo.lockOpen(w.tx, m.hostname);
    const node = row && !expired(row) ? tree.model.get(row.nodeId) : undefined;
    if (!row || !node) return undefined;
    const via = vouches(w.actor, node) ? 'owner' : proofOf(row, m);
    if (!via) return undefined;
    const shownPath = w.actor.superuser || auth.can(w.actor, 'tree.read', node.id) ? node.path : null;
    return { node, shownPath, requestId: row.id, via, idc: row.idc, zone: row.zone, bound: (sub: WriteContext, machineId: number) => closeBound(sub, row, node, machineId, via) };
  }

  function apply(rows: repo.RequestRow[]): void {
    for (const r of rows) {
      if (r.state === 'open') open.set(r.hostname, toOpen(r));
      else if (open.get(r.hostname)?.id === r.id) open.delete(r.hostname);
    }
  }

  /** The unexpired open request for `hostname`, if any (from memory). */
  function openFor(hostname: string, now = Date.now()): OpenRequest | undefined {
    const r = open.get(hostname);
    return r && r.expiresAt > now ? r : undefined;
  }

  function schedule(hostname: string): void {
    if (stopped) return;
    if (pending.has(hostname)) {
      again.add(hostname);
      return;
    }
    const p = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => bindPending(hostname))
      .catch(onError)
      .finally(() => {
        pending.delete(hostname);
        if (again.delete(hostname)) schedule(hostname);
      });
    pending.set(hostname, p);
  }

  /**
   * Bind an existing machine to its open request when `decide` allows, in one transaction: the
   * binding, the copied placement and the close commit together. Idempotent, so every replica may
   * run it for the same event: the close happens under the request's row lock, once.
   */
  async function bindExisting(hostname: string, decide: Decide): Promise<boolean> {
    if (!openFor(hostname)) return false;
    return writer.run(PROVISIONING_ACTOR, async (w) => {
      const row = await repo.lockOpen(w.tx, hostname);
      const node = row && !expired(row) ? tree.model.get(row.nodeId) : undefined;
      const machine = await machines.findIn(w.tx, hostname);
      // A retired machine cannot be bound; a deleted node cannot take it. The request waits or expires.
      if (!row || !node || !machine || machine.status === 'retired') return false;
      const via = decide(row, machine, await machines.nodesIn(w.tx, machine.id));
      if (!via || !(await machines.placeIn(w, hostname, node, row))) return false;
      await closeBound(w, row, node, machine.id, via);
      return true;
    });
  }

  const byFacts: Decide = (row, machine) => proofOf(row, machine);

  async function bindPending(hostname: string): Promise<void> {
    await bindExisting(hostname, byFacts);
  }

  /** Resolves once every queued bind has finished (tests, shutdown). */
  async function settled(): Promise<void> {
    while (pending.size > 0) await Promise.all([...pending.values()]);
  }

  function view(r: repo.RequestRow): ProvisioningView {
    const lapsed = r.state === 'open' && expired(r);
    const { tokenHash, enrolledAt, ...rest } = r;
    return {
      ...rest,
      enroll: tokenHash !== null,
      enrolledAt: enrolledAt ? iso(enrolledAt) : null,
      nodePath: tree.model.get(r.nodeId)?.path ?? null,
      state: lapsed ? 'expired' : r.state,
      createdAt: iso(r.createdAt),
      expiresAt: iso(r.expiresAt),
      closedAt: r.closedAt ? iso(r.closedAt) : null,
    };
  }

  async function must(id: number): Promise<repo.RequestRow> {
    const r = await repo.byId(db, id);
    if (!r) throw new NotFoundError('provisioning request', String(id));
    return r;
  }

  async function sweep(): Promise<{ expired: number }> {
    const count = await writer.run(PROVISIONING_ACTOR, async (w) => {
      const rows = await repo.expireDue(w.tx);
      for (const r of rows) w.audit({ operation: 'provisioning.expire', targetKind: 'provisioning', target: r.hostname, nodeId: r.nodeId, after: { id: r.id } });
      if (rows.length > 0) w.emit(PROVISIONING_TOPIC, { upsert: rows });
      return rows.length;
    });
    for (const h of await repo.openWithMachine(db)) if (openFor(h)?.serial || openFor(h)?.mac) schedule(h);
    return { expired: count };
  }

  return {
    openFor,
    view,

    /**
     * Record an install request. A machine that already exists is bound at once when the requester
     * may change it (machine.write on each node it is on; a superuser) or its facts match.
     */
    async create(actor: Actor, input: CreateProvisioningInput): Promise<ProvisioningView> {
      const token = input.enroll ? `${ENROLLMENT_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}` : undefined;
      const row = await writer.run(actor, async (w) => {
        const node = tree.node(input.nodePath);
        const existing = await repo.lockOpen(w.tx, input.hostname);
        if (existing && Date.parse(iso(existing.expiresAt)) > Date.now()) {
          throw new ConflictError(`an install request for '${input.hostname}' is already open (#${existing.id})`, { id: existing.id });
        }
        if (existing) w.emit(PROVISIONING_TOPIC, { upsert: [await repo.close(w.tx, existing.id, 'expired')] });
        const r = await repo.insert(w.tx, {
          hostname: input.hostname,
          nodeId: node.id,
          idc: input.idc,
          zone: input.zone,
          os: input.os,
          serial: input.serial,
          mac: input.mac ?? '',
          requestedBy: input.requestedBy ?? actor.name,
          note: input.note,
          createdBy: actor.name,
          ttlHours: input.ttlHours ?? opts.ttlHours,
          tokenHash: token ? tokenHashOf(token) : null,
        });
        w.audit({ operation: 'provisioning.create', targetKind: 'provisioning', target: r.hostname, nodeId: node.id, nodePath: node.path, after: view(r) });
        w.emit(PROVISIONING_TOPIC, { upsert: [r] });
        return r;
      });
      const ownerOfMachine: Decide = (r, machine, nodes) =>
        actor.superuser || (nodes.length > 0 && nodes.every((n) => auth.can(actor, 'machine.write', n.id))) ? 'owner' : proofOf(r, machine);
      await bindExisting(row.hostname, ownerOfMachine).catch(onError);
      return { ...view(await must(row.id)), ...(token ? { enrollmentToken: token } : {}) };
    },

    /**
     * The seam for agent enrollment: once it has verified the enrollment token issued for the
     * host's open request, this binds the machine to the request's node. False when there is no
     * open request or no machine to bind.
     */
    bindVerified(hostname: string, via: Extract<ClaimVia, 'enrollment-token'> = 'enrollment-token'): Promise<boolean> {
      return bindExisting(hostname, () => via);
    },

    get: async (id: number) => view(await must(id)),
    /** The stored row (for authorization by node). */
    row: must,

    async list(f: { state?: ProvisioningState | undefined; nodeIds?: number[] | undefined; hostname?: string | undefined }, limit: number, cursor?: string) {
      const before = cursor === undefined ? undefined : Number(cursor);
      if (before !== undefined && !Number.isSafeInteger(before)) throw new ValidationError('invalid cursor', [{ path: ['cursor'], message: 'not a cursor from a previous page' }]);
      // Lazily expired requests are open in the table but not in the answer.
      const rows = await repo.list(db, f, limit, before);
      const items = rows.map(view).filter((v) => f.state === undefined || v.state === f.state);
      const last = rows.at(-1);
      return { items, ...(rows.length === limit && last ? { nextCursor: String(last.id) } : {}) };
    },

    async cancel(actor: Actor, id: number): Promise<ProvisioningView> {
      return view(
        await writer.run(actor, async (w) => {
          const r = await repo.byId(w.tx, id, true);
          if (!r) throw new NotFoundError('provisioning request', String(id));
          if (r.state !== 'open') throw new ConflictError(`install request #${id} is already ${r.state}`, { state: r.state });
          const closed = await repo.close(w.tx, id, 'cancelled');
          w.audit({ operation: 'provisioning.cancel', targetKind: 'provisioning', target: r.hostname, nodeId: r.nodeId, before: { id, state: r.state } });
          w.emit(PROVISIONING_TOPIC, { upsert: [closed] });
          return closed;
        }),
      );
    },

    sweep,

    settled,

    async load(q: Queryable): Promise<void> {
      open.clear();
      apply(await repo.loadOpen(q));
    },

    /** Start the periodic sweep; the first runs a minute after start, off the start-up path. */
    start(): void {
      stopped = false;
      if (opts.sweepMs <= 0) return;
      const tick = () => {
        if (stopped || sweeping) return;
        sweeping = sweep()
          .catch(onError)
          .finally(() => (sweeping = null));
      };
      first = setTimeout(tick, Math.min(opts.sweepMs, 60_000));
      first.unref();
      timer = setInterval(tick, opts.sweepMs);
      timer.unref();
    },

    /** Stop the timer and wait for the sweep and binds under way. */
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      await sweeping;
      await settled();
    },
  };
}

function toOpen(r: repo.RequestRow): OpenRequest {
  return { id: r.id, hostname: r.hostname, nodeId: r.nodeId, idc: r.idc, zone: r.zone, serial: r.serial, mac: r.mac, expiresAt: Date.parse(iso(r.expiresAt)) };
}
