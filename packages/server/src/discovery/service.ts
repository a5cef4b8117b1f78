/**
 * Discovery's domain: registry writes through the writer, reads from the in-memory registry, health,
 * blocking waits and watches. No HTTP here; authorization wraps this in the routes.
 */
import { ConflictError, NotFoundError, ValidationError, isServing, type Answer, type HeartbeatInput, type InstanceInput, type ServiceInput, type ServiceView } from '@canopy/core';
import { SYSTEM_ACTOR, type Actor, type ChangeFeed, type WriteContext, type Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import { MACHINE_TOPIC } from '../machines/index.ts';
import { TREE_TOPIC, iso, type TreeChange, type TreeNode, type TreeService } from '../tree/index.ts';
import { createEdgeRecorder } from './graph.ts';
import { createHealthTracker } from './health.ts';
import { createHub, type WatchListener } from './hub.ts';
import { createLinks } from './links.ts';
import { DISCOVERY_TOPIC, emptyEffect, type DiscoveryChange, type Effect, type MachineInfo } from './records.ts';
import { createRegistry } from './registry.ts';
import * as repo from './repo.ts';

/** Tunables; every one has a default suited to production. */
export interface DiscoveryOptions {
  /** Clock for heartbeats and TTLs (tests inject one). Default Date.now. */
  clock?: () => number;
  /** How often TTLs are checked. Default 1000 ms. */
  sweepEveryMs?: number;
  /** How often last-seen times and observed edges are written. Default 2000 ms / 10000 ms. */
  heartbeatFlushMs?: number;
  edgeFlushMs?: number;
  /** Recent changes kept for resuming watchers. Default 8192. */
  ringSize?: number;
}

/** A change as the DNS server, the SDK bridge or the console sees it. */
export interface RegistryChange {
  revision: number;
  /** Current paths of the services whose answer changed. */
  services: string[];
  /** Alias paths created, switched or removed. */
  aliases: string[];
  /** Name resolution may have moved (aliases, renames, services appearing or going). */
  reroute: boolean;
}

export type DiscoveryService = ReturnType<typeof createDiscoveryService>;

/** Build the discovery service and subscribe its registry to the change feed. */
export function createDiscoveryService(deps: { writer: Writer; feed: ChangeFeed; db: Queryable; tree: TreeService; onError?: (err: unknown) => void }, opts: DiscoveryOptions = {}) {
  const { writer, feed, tree } = deps;
  const clock = opts.clock ?? Date.now;
  const onError = deps.onError ?? (() => {});
  const registry = createRegistry(tree.model);
  const hub = createHub(registry.resolve, { ringSize: opts.ringSize ?? 8192 });
  const listeners = new Set<(c: RegistryChange) => void>();
  const waits = new Set<() => void>();

  const health = createHealthTracker(
    {
      registry,
      clock,
      onError,
      transition: (id, to, reason) =>
        writer.run(SYSTEM_ACTOR, async (w) => {
          const i = registry.instance(id);
          if (!i || i.health === to) return;
          await repo.setHealth(w.tx, id, to);
          emit(w, { kind: 'health', id, nodeId: i.nodeId, health: to, reason });
        }),
      persist: (seen, candidates, now) =>
        writer.run(SYSTEM_ACTOR, async (w) => {
          await repo.saveHeartbeats(w.tx, seen);
          const stored = await repo.lastSeen(w.tx, candidates.map((c) => c.id));
          const alive = new Map<number, number>();
          for (const c of candidates) {
            const last = Math.max(c.lastSeen, stored.get(c.id) ?? 0);
            const i = registry.instance(c.id);
            if (i && i.health !== 'critical' && last + c.ttlMs <= now) {
              await repo.setHealth(w.tx, c.id, 'critical');
              emit(w, { kind: 'health', id: c.id, nodeId: i.nodeId, health: 'critical', reason: 'ttl expired' });
            } else alive.set(c.id, last);
          }
          return alive;
        }),
    },
    { sweepEveryMs: opts.sweepEveryMs ?? 1000, flushEveryMs: opts.heartbeatFlushMs ?? 2000 },
  );
  const edges = createEdgeRecorder((batch) => writer.run(SYSTEM_ACTOR, (w) => repo.addObservedEdges(w.tx, batch)), clock, { flushEveryMs: opts.edgeFlushMs ?? 10_000, maxPending: 10_000 }, onError);
  const links = createLinks({ writer, db: deps.db, tree, registry, edges, emit });

  function emit(w: WriteContext, change: DiscoveryChange): void {
    w.emit(DISCOVERY_TOPIC, change);
  }

  function publish(revision: number, e: Effect): void {
    registry.bump(e, revision);
    hub.publish(revision, e);
    if (listeners.size === 0 || (e.nodeIds.size === 0 && e.aliasPaths.size === 0 && !e.reroute)) return;
    const change: RegistryChange = {
      revision,
      services: [...e.nodeIds].flatMap((id) => tree.model.get(id)?.path ?? []),
      aliases: [...e.aliasPaths],
      reroute: e.reroute,
    };
    for (const l of listeners) {
      try {
        l(change);
      } catch (err) {
        onError(err);
      }
    }
  }

  feed.on(DISCOVERY_TOPIC, (c) => {
    const change = c.payload as DiscoveryChange;
    if (change.kind === 'instance' && !registry.instance(change.instance.id)) health.touch(change.instance.id, clock());
    if (change.kind === 'instance.remove') health.forget(change.id);
    if (change.kind === 'service.remove') for (const i of registry.instancesOf(change.nodeId)) health.forget(i.id);
    publish(c.revision, registry.apply(change));
  });
  feed.on(TREE_TOPIC, (c) => publish(c.revision, registry.applyTree(c.payload as TreeChange)));
  feed.on(MACHINE_TOPIC, (c) => {
    const e = emptyEffect();
    for (const m of (c.payload as { upsert?: MachinePayload[] }).upsert ?? []) for (const id of registry.applyMachine(machineInfo(m)).nodeIds) e.nodeIds.add(id);
    publish(c.revision, e);
  });

  /** Machine change payloads carry node ids (newer) or node paths (older); accept both. */
  function machineInfo(m: MachinePayload): MachineInfo {
    const nodeIds = m.nodeIds ?? (m.nodes ?? []).flatMap((p) => tree.model.byPath(p)?.id ?? []);
    return { id: m.id, hostname: m.hostname, ips: m.ips, zone: m.zone, status: m.status, nodeIds };
  }

  function serviceNode(path: string): TreeNode {
    const node = tree.model.byPath(path);
    if (!node || !registry.service(node.id)) throw new NotFoundError('service', path);
    return node;
  }

  function serviceView(node: TreeNode): ServiceView {
    const s = registry.service(node.id);
    if (!s) throw new NotFoundError('service', node.path);
    const all = registry.instanceViews(node.id);
    return {
      id: node.id,
      path: node.path,
      ports: s.ports,
      lb: s.lb,
      protectThreshold: s.protectThreshold,
      zoneAware: s.zoneAware,
      zoneMinHealthy: s.zoneMinHealthy,
      passesBeforePassing: s.passesBeforePassing,
      failuresBeforeCritical: s.failuresBeforeCritical,
      index: registry.index(node.id),
      instanceCount: all.length,
      healthyCount: all.filter(isServing).length,
      dependencies: registry.dependencies(node.id).flatMap((id) => tree.model.get(id)?.path ?? []).sort(),
      version: s.version,
      createdAt: iso(s.createdAt),
      updatedAt: iso(s.updatedAt),
    };
  }

  function instanceView(id: number) {
    const i = registry.instance(id);
    if (!i) throw new NotFoundError('instance', String(id));
    const v = registry.instanceView(i);
    return { ...v, updatedAt: iso(v.updatedAt) };
  }

  /** Which declared port an instance serves: named, or the one with its number, or the only one. */
  function portNameFor(ports: { name: string; port: number }[], port: number, named: string | undefined): string {
    if (named !== undefined) {
      if (!ports.some((p) => p.name === named)) throw new ValidationError(`the service declares no port named '${named}'`, [{ path: ['portName'], message: `one of ${ports.map((p) => p.name).join(', ')}` }]);
      return named;
    }
    const same = ports.find((p) => p.port === port) ?? (ports.length === 1 ? ports[0] : undefined);
    if (!same) throw new ValidationError(`port ${port} is not a declared port of the service; name one with portName`, [{ path: ['portName'], message: 'required when the port number is not declared' }]);
    return same.name;
  }

  return {
    registry,
    health,
    edges,
    serviceView,

    // ---- the interface the DNS server, SDK bridge and console build on (see index.ts) ----
    resolve: (path: string, o: { zone?: string | undefined; healthyOnly?: boolean } = {}): Answer | undefined => registry.answer(path, { healthyOnly: o.healthyOnly ?? true, zone: o.zone }),
    resolveNode: (path: string) => registry.resolve(path).nodeId,
    lookupAlias: links.lookupAlias,
    subscribe(listener: (c: RegistryChange) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    watch: (paths: readonly string[], listener: WatchListener) => hub.watch(paths, listener),
    changedSince: (paths: readonly string[], since: number) => hub.changedSince(paths, since),
    revision: () => feed.revision(),

    /** The answer once its index passes `index`, or the unchanged answer after `waitMs`. */
    waitForChange(path: string, o: { healthyOnly: boolean; zone?: string | undefined }, index: number, waitMs: number): Promise<Answer | undefined> {
      const first = registry.answer(path, o);
      if (!first || first.index > index) return Promise.resolve(first);
      return new Promise((resolve) => {
        const done = () => {
          unwatch();
          clearTimeout(timer);
          waits.delete(done);
          resolve(registry.answer(path, o));
        };
        const unwatch = hub.watch([path], () => {
          const cur = registry.answer(path, o);
          if (!cur || cur.index > index) done();
        });
        const timer = setTimeout(done, waitMs);
        waits.add(done);
      });
    },

    /** Answer every blocked query now (shutdown). */
    releaseWaits(): void {
      for (const done of [...waits]) done();
    },

    list(under: string | undefined, visible: (node: TreeNode) => boolean, limit: number, cursor: string | undefined): { items: ServiceView[]; nextCursor?: string } {
      const nodes = [...registry.services()]
        .flatMap((s) => tree.model.get(s.nodeId) ?? [])
        .filter((n) => (!under || n.path === under || n.path.startsWith(`${under}.`)) && (!cursor || n.path > cursor) && visible(n))
        .sort((a, b) => (a.path < b.path ? -1 : 1));
      const page = nodes.slice(0, limit).map(serviceView);
      const last = page.at(-1);
      return nodes.length > limit && last ? { items: page, nextCursor: last.path } : { items: page };
    },

    get: (path: string) => serviceView(serviceNode(path)),
    serviceNode,

    async putService(actor: Actor, path: string, input: ServiceInput): Promise<{ service: ServiceView; created: boolean }> {
      const created = await writer.run(actor, async (w) => {
        const node = tree.node(path);
        if (registry.alias(path)) throw new ConflictError(`'${path}' is an alias; delete the alias before registering a service there`, { path });
        const before = registry.service(node.id);
        if (before) {
          const names = new Set(input.ports.map((p) => p.name));
          const orphans = registry.instancesOf(node.id).filter((i) => !names.has(i.portName));
          if (orphans.length > 0) throw new ConflictError(`instances still serve port(s) ${[...new Set(orphans.map((i) => i.portName))].join(', ')}`, { instances: orphans.length });
        }
        const row = await repo.upsertService(w.tx, node.id, input);
        w.audit({ operation: before ? 'discovery.service.update' : 'discovery.service.create', targetKind: 'service', target: path, nodeId: node.id, nodePath: path, before, after: row });
        emit(w, { kind: 'service', service: row });
        return !before;
      });
      return { service: serviceView(tree.node(path)), created };
    },

    async deleteService(actor: Actor, path: string, force: boolean): Promise<void> {
      await writer.run(actor, async (w) => {
        const node = serviceNode(path);
        const naming = [...registry.aliases()].filter((a) => a.targetNodeId === node.id).map((a) => a.path);
        if (naming.length > 0) throw new ConflictError(`aliases still name '${path}': ${naming.join(', ')}; switch or delete them first`, { aliases: naming });
        const count = registry.instancesOf(node.id).length;
        if (count > 0 && !force) throw new ConflictError(`'${path}' has ${count} registered instance(s); deregister them or delete with ?force=true`, { instances: count });
        const before = registry.service(node.id);
        await repo.deleteService(w.tx, node.id);
        w.audit({ operation: 'discovery.service.delete', targetKind: 'service', target: path, nodeId: node.id, nodePath: path, before: { ...before, instances: count } });
        emit(w, { kind: 'service.remove', nodeId: node.id });
      });
    },

    async putInstance(actor: Actor, path: string, hostname: string, port: number, input: InstanceInput) {
      const out = await writer.run(actor, async (w) => {
        const node = serviceNode(path);
        const svc = registry.service(node.id) as NonNullable<ReturnType<typeof registry.service>>;
        const m = await repo.machineByHostname(w.tx, hostname);
        if (!m) throw new NotFoundError('machine', hostname);
        if (!m.nodeIds.includes(node.id) || m.status === 'retired') {
          throw new ConflictError(`machine '${hostname}' is not bound to '${path}'; bind it first (PUT /api/v1/nodes/${path}/machines/${hostname})`, { hostname, path });
        }
        if (m.ips.length === 0) throw new ConflictError(`machine '${hostname}' has no IP address`, { hostname });
        if (input.ip !== undefined && !m.ips.includes(input.ip)) throw new ValidationError(`${input.ip} is not an address of '${hostname}'`, [{ path: ['ip'], message: `one of ${m.ips.join(', ')}` }]);
        const existing = registry.instanceAt(node.id, m.id, port);
        const portName = portNameFor(svc.ports, port, input.portName ?? existing?.portName);
        const row = existing
          ? await repo.updateInstance(w.tx, existing.id, { ...input, portName })
          : await repo.insertInstance(w.tx, { nodeId: node.id, machineId: m.id, port, portName, ip: input.ip ?? null, weight: input.weight ?? 1, status: input.status ?? 'up', ttlSeconds: input.ttlSeconds ?? null, meta: input.meta ?? {} });
        const target = `${path}/${hostname}:${port}`;
        w.audit({ operation: existing ? 'discovery.instance.update' : 'discovery.instance.register', targetKind: 'instance', target, nodeId: node.id, nodePath: path, before: existing, after: row });
        emit(w, { kind: 'instance', instance: row, machine: m });
        return { id: row.id, created: !existing };
      });
      return { instance: instanceView(out.id), created: out.created };
    },

    async deleteInstance(actor: Actor, path: string, hostname: string, port: number): Promise<void> {
      await writer.run(actor, async (w) => {
        const node = serviceNode(path);
        const i = registry.instanceOf(node.id, hostname, port);
        if (!i) throw new NotFoundError('instance', `${path}/${hostname}:${port}`);
        await repo.deleteInstance(w.tx, i.id);
        w.audit({ operation: 'discovery.instance.deregister', targetKind: 'instance', target: `${path}/${hostname}:${port}`, nodeId: node.id, nodePath: path, before: i });
        emit(w, { kind: 'instance.remove', id: i.id, nodeId: node.id });
      });
    },

    instance(path: string, hostname: string, port: number) {
      const i = registry.instanceOf(serviceNode(path).id, hostname, port);
      if (!i) throw new NotFoundError('instance', `${path}/${hostname}:${port}`);
      return instanceView(i.id);
    },

    /** One heartbeat: in memory unless it moves the instance's health. */
    async heartbeat(path: string, hostname: string, port: number, input: HeartbeatInput) {
      const i = registry.instanceOf(serviceNode(path).id, hostname, port);
      if (!i) throw new NotFoundError('instance', `${path}/${hostname}:${port}`);
      const r = await health.heartbeat(i.id, input.status);
      const now = registry.instance(i.id) ?? i;
      return { health: r.health, status: now.status, ttlSeconds: now.ttlSeconds, passes: r.passes, failures: r.failures };
    },

    ...links.api,

    /** Fill the registry from the database (start-up snapshot). */
    async load(q: Queryable): Promise<void> {
      const snap = await repo.loadSnapshot(q);
      registry.load(snap);
      hub.reset(snap.revision);
    },
    start(): void {
      health.start();
      edges.start();
    },
    async stop(): Promise<void> {
      for (const done of [...waits]) done();
      await health.stop();
      await edges.stop();
    },
  };
}

interface MachinePayload {
  id: number;
  hostname: string;
  ips: string[];
  zone: string;
  status: string;
  nodes?: string[];
  nodeIds?: number[];
}
