/**
 * The install system. A request records which node a machine being installed belongs to, so the
 * ENC can classify the machine before it is in the tree. When the machine appears (created through
 * the machines API, or changed later, e.g. by its agent registering) it is bound to that node and
 * the request closes. Requests past their expiry count as expired at once (lazily) and are marked
 * so by a periodic sweep, which also retries binds an event may have missed.
 */
import { ConflictError, NotFoundError, ValidationError } from '@canopy/core';
import type { Actor, ChangeFeed, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import { MACHINE_TOPIC, type MachineService } from '../machines/index.ts';
import { iso, type TreeService } from '../tree/index.ts';
import * as repo from './repo.ts';
import type { CreateProvisioningInput, ProvisioningView } from './schema.ts';
import type { ProvisioningState } from './tables.ts';

export const PROVISIONING_TOPIC = 'provisioning';

/** The actor binds and expiries are recorded under. */
export const PROVISIONING_ACTOR: Actor = Object.freeze({ kind: 'system', id: null, name: 'provisioning', superuser: true });

/** An open request as the ENC needs it. */
export interface OpenRequest {
  id: number;
  hostname: string;
  nodeId: number;
  idc: string;
  zone: string;
  expiresAt: number;
}

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
  deps: { writer: Writer; feed: ChangeFeed; db: Queryable; tree: TreeService; machines: MachineService },
  opts: ProvisioningOptions,
) {
  const { writer, feed, db, tree, machines } = deps;
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
  feed.on(MACHINE_TOPIC, (c) => {
    for (const m of (c.payload as { upsert?: { hostname: string; status: string }[] }).upsert ?? []) {
      if (m.status !== 'retired' && openFor(m.hostname)) schedule(m.hostname);
    }
  });

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

  // Idempotent, so every replica may run it for the same event: binding twice is a no-op and the
  // close happens under a row lock, once.
  async function bindPending(hostname: string): Promise<void> {
    const req = openFor(hostname);
    if (!req) return;
    const machine = machines.model.byHostname(hostname);
    const node = tree.model.get(req.nodeId);
    // A retired machine cannot be bound; a deleted node cannot take it. The request waits or expires.
    if (!machine || machine.status === 'retired' || !node) return;
    if (!machine.nodeIds.includes(node.id)) await machines.bind(PROVISIONING_ACTOR, node.path, hostname);
    await writer.run(PROVISIONING_ACTOR, async (w) => {
      const row = await repo.lockOpen(w.tx, hostname);
      if (!row || row.id !== req.id) return;
      const closed = await repo.close(w.tx, row.id, 'bound', machine.id);
      w.audit({ operation: 'provisioning.bind', targetKind: 'provisioning', target: hostname, nodeId: node.id, nodePath: node.path, after: { id: row.id, machineId: machine.id } });
      w.emit(PROVISIONING_TOPIC, { upsert: [closed] });
    });
  }

  /** Resolves once every queued bind has finished (tests, shutdown). */
  async function settled(): Promise<void> {
    while (pending.size > 0) await Promise.all([...pending.values()]);
  }

  function view(r: repo.RequestRow): ProvisioningView {
    const expired = r.state === 'open' && Date.parse(iso(r.expiresAt)) <= Date.now();
    return {
      ...r,
      nodePath: tree.model.get(r.nodeId)?.path ?? null,
      state: expired ? 'expired' : r.state,
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
    const expired = await writer.run(PROVISIONING_ACTOR, async (w) => {
      const rows = await repo.expireDue(w.tx);
      for (const r of rows) w.audit({ operation: 'provisioning.expire', targetKind: 'provisioning', target: r.hostname, nodeId: r.nodeId, after: { id: r.id } });
      if (rows.length > 0) w.emit(PROVISIONING_TOPIC, { upsert: rows });
      return rows.length;
    });
    for (const h of await repo.openWithMachine(db)) schedule(h);
    return { expired };
  }

  return {
    openFor,
    view,

    /** Record an install request; binds at once when the machine already exists. */
    async create(actor: Actor, input: CreateProvisioningInput): Promise<ProvisioningView> {
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
          requestedBy: input.requestedBy ?? actor.name,
          note: input.note,
          createdBy: actor.name,
          ttlHours: input.ttlHours ?? opts.ttlHours,
        });
        w.audit({ operation: 'provisioning.create', targetKind: 'provisioning', target: r.hostname, nodeId: node.id, nodePath: node.path, after: view(r) });
        w.emit(PROVISIONING_TOPIC, { upsert: [r] });
        return r;
      });
      await bindPending(row.hostname).catch(onError);
      return view(await must(row.id));
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
  return { id: r.id, hostname: r.hostname, nodeId: r.nodeId, idc: r.idc, zone: r.zone, expiresAt: Date.parse(iso(r.expiresAt)) };
}
