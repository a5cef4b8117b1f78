/**
 * Discovery's domain: registry writes through the writer, reads from the in-memory registry, health,
 * blocking waits and watches. No HTTP here; authorization wraps this in the routes.
 */
import type { Answer } from '@canopy/core';
import { SYSTEM_ACTOR, type ChangeFeed, type WriteContext, type Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import { MACHINE_TOPIC } from '../machines/index.ts';
import { TREE_TOPIC, type TreeChange, type TreeService } from '../tree/index.ts';
import { followAgentHealth } from './agent-health.ts';
import { createEdgeRecorder } from './graph.ts';
import { createHealthTracker } from './health.ts';
import { createHub, type WatchListener } from './hub.ts';
import { createLinks } from './links.ts';
import { createRegistryOps } from './ops.ts';
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
      show: (id, to) => {
        const i = registry.instance(id);
        // The index stays: watchers hear of it from the change event once it is written.
        if (i && i.health !== to) registry.bump(registry.apply({ kind: 'health', id, nodeId: i.nodeId, health: to, reason: '' }), registry.index(i.nodeId));
      },
      record: (take) =>
        writer.run(SYSTEM_ACTOR, async (w) => {
          for (const m of take()) {
            const i = registry.instance(m.id);
            if (!i) continue;
            await repo.setHealth(w.tx, m.id, m.health);
            auditHealth(w, i.id, m.from, m.health, m.reason);
            emit(w, { kind: 'health', id: m.id, nodeId: i.nodeId, health: m.health, reason: m.reason });
          }
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
              auditHealth(w, c.id, i.health, 'critical', 'ttl expired');
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
  const ops = createRegistryOps({ writer, tree, registry, health, emit });
  // Deleting a node refuses for the reasons deleting its service does, for every node it takes along.
  tree.addDeleteGuard((nodes) => {
    const going = new Set(nodes.map((n) => n.id));
    return nodes.flatMap((n) => ops.deleteBlockers(n, { force: false, going }).reasons);
  });

  function emit(w: WriteContext, change: DiscoveryChange): void {
    w.emit(DISCOVERY_TOPIC, change);
  }

  /** A health transition in the audit log, as `service/host:port`. */
  function auditHealth(w: WriteContext, id: number, from: string, to: string, reason: string): void {
    const i = registry.instance(id);
    const path = i && tree.model.get(i.nodeId)?.path;
    if (!i || !path) return;
    const target = `${path}/${registry.instanceView(i).hostname}:${i.port}`;
    w.audit({ operation: 'discovery.instance.health', targetKind: 'instance', target, nodeId: i.nodeId, nodePath: path, before: { health: from }, after: { health: to, reason } });
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
    if (change.kind === 'instance' && registry.instance(change.instance.id)?.health === 'critical' && change.instance.health !== 'critical') health.forget(change.instance.id);
    if (change.kind === 'instance' && !registry.instance(change.instance.id)) health.touch(change.instance.id, clock());
    if (change.kind === 'instance.remove') health.forget(change.id);
    if (change.kind === 'service.remove') for (const i of registry.instancesOf(change.nodeId)) health.forget(i.id);
    publish(c.revision, registry.apply(change));
    if (change.kind === 'instance' || change.kind === 'health') health.reshow(change.kind === 'health' ? change.id : change.instance.id);
  });
  feed.on(TREE_TOPIC, (c) => publish(c.revision, registry.applyTree(c.payload as TreeChange)));
  feed.on(MACHINE_TOPIC, (c) => {
    const e = emptyEffect();
    for (const m of (c.payload as { upsert?: MachinePayload[] }).upsert ?? []) for (const id of registry.applyMachine(machineInfo(m)).nodeIds) e.nodeIds.add(id);
    publish(c.revision, e);
  });

  // Instances on a machine whose agent is unreachable answer as failing until it is back (agent-health.ts).
  const agentHealth = followAgentHealth(feed, (revision, ids, down) => publish(revision, registry.setAgentsDown(ids, down)));

  /** Machine change payloads carry node ids (newer) or node paths (older); accept both. */
  function machineInfo(m: MachinePayload): MachineInfo {
    const nodeIds = m.nodeIds ?? (m.nodes ?? []).flatMap((p) => tree.model.byPath(p)?.id ?? []);
    return { id: m.id, hostname: m.hostname, ips: m.ips, zone: m.zone, status: m.status, nodeIds };
  }

  return {
    registry,
    health,
    edges,

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

    ...ops,
    ...links.api,

    /** Fill the registry from the database (start-up snapshot). */
    async load(q: Queryable): Promise<void> {
      const snap = await repo.loadSnapshot(q);
      registry.load(snap);
      hub.reset(snap.revision);
      registry.bump(registry.setAgentsDown(await agentHealth.unreachable(q), true), snap.revision);
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
