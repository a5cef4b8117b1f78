/**
 * The in-memory registry every discovery read is served from: services by node id, instances,
 * the machines they run on, aliases, old paths and declared dependencies; plus each service's
 * index (the change-feed revision of the last change to its answer). Fed only by change events,
 * so every replica holds the same registry.
 */
import { MAX_ALIAS_DEPTH, markServing, selectInstances, type Answer, type InstanceView } from '@canopy/core';
import { iso, type TreeChange, type TreeModel } from '../tree/index.ts';
import { emptyEffect, type AliasRecord, type DiscoveryChange, type DiscoverySnapshot, type Effect, type InstanceRecord, type MachineInfo, type ServiceRecord } from './records.ts';

/** Where a path leads: the service node, the aliases and old paths followed, their newest revision. */
export interface Resolution {
  nodeId: number | undefined;
  chain: string[];
  aliasIndex: number;
}

export type Registry = ReturnType<typeof createRegistry>;

/** An empty registry over the tree's model. */
export function createRegistry(tree: TreeModel) {
  const services = new Map<number, ServiceRecord>();
  const instances = new Map<number, InstanceRecord>();
  const byService = new Map<number, Map<number, InstanceRecord>>();
  const machines = new Map<number, MachineInfo>();
  const byMachine = new Map<number, Set<number>>();
  const aliases = new Map<string, AliasRecord>();
  const aliasRev = new Map<string, number>();
  const oldPaths = new Map<string, number>();
  const knownPath = new Map<number, string>();
  const deps = new Map<number, Set<number>>();
  const index = new Map<number, number>();
  const views = new Map<number, InstanceView[]>();
  /** Instances that heartbeat (a TTL is set): the only ones the health sweep needs to visit. */
  const withTtl = new Set<number>();
  /** Machines whose agent is unreachable: their instances answer as critical (agent-health.ts). */
  const agentDown = new Set<number>();
  let base = 0;
  // Counts the states answers were computed from (every applied change ends in `bump`), so callers
  // may reuse an answer until it moves — the SSE route encodes one answer for 10,000 watchers.
  let generation = 0;

  function bump(e: Effect, revision: number): void {
    generation++;
    for (const id of e.nodeIds) {
      index.set(id, Math.max(index.get(id) ?? base, revision));
      views.delete(id);
    }
    for (const p of e.aliasPaths) aliasRev.set(p, Math.max(aliasRev.get(p) ?? base, revision));
  }

  function putInstance(i: InstanceRecord): void {
    const old = instances.get(i.id);
    if (old && old.machineId !== i.machineId) byMachine.get(old.machineId)?.delete(i.id);
    instances.set(i.id, i);
    if (i.ttlSeconds === null) withTtl.delete(i.id);
    else withTtl.add(i.id);
    let m = byService.get(i.nodeId);
    if (!m) byService.set(i.nodeId, (m = new Map()));
    m.set(i.id, i);
    let s = byMachine.get(i.machineId);
    if (!s) byMachine.set(i.machineId, (s = new Set()));
    s.add(i.id);
  }

  function dropInstance(id: number): InstanceRecord | undefined {
    const i = instances.get(id);
    if (!i) return undefined;
    instances.delete(id);
    withTtl.delete(id);
    byService.get(i.nodeId)?.delete(id);
    const s = byMachine.get(i.machineId);
    s?.delete(id);
    if (s && s.size === 0) {
      byMachine.delete(i.machineId);
      machines.delete(i.machineId);
    }
    return i;
  }

  function view(i: InstanceRecord): Omit<InstanceView, 'serving'> {
    const m = machines.get(i.machineId);
    const ip = m && i.ip !== null && m.ips.includes(i.ip) ? i.ip : (m?.ips[0] ?? '');
    const bound = m !== undefined && ip !== '' && m.status !== 'retired' && m.nodeIds.includes(i.nodeId);
    return {
      id: i.id,
      hostname: m?.hostname ?? `#${i.machineId}`,
      ip,
      port: i.port,
      portName: i.portName,
      weight: i.weight,
      zone: m?.zone ?? '',
      status: i.status,
      health: agentDown.has(i.machineId) ? 'critical' : i.health,
      bound,
      ...(agentDown.has(i.machineId) ? { agentUnreachable: true } : {}),
      ttlSeconds: i.ttlSeconds,
      meta: i.meta,
      version: i.version,
      updatedAt: iso(i.updatedAt),
    };
  }

  /**
   * Every instance of a service in (hostname, port) order, so wrr sequences match nginx's for the
   * same list, each marked `serving` by the one selection rule. Any change to an instance or to the
   * service's policy drops the cached list (`bump`), so the marks never go stale.
   */
  function instanceViews(nodeId: number): InstanceView[] {
    let v = views.get(nodeId);
    if (!v) {
      const all = [...(byService.get(nodeId)?.values() ?? [])].map(view);
      all.sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : a.port - b.port));
      const svc = services.get(nodeId);
      v = svc ? markServing(all, svc) : all.map((x) => ({ ...x, serving: false }));
      views.set(nodeId, v);
    }
    return v;
  }

  /** One instance as its service's list shows it. */
  function instanceView(i: InstanceRecord): InstanceView {
    return instanceViews(i.nodeId).find((x) => x.id === i.id) ?? { ...view(i), serving: false };
  }

  /** Follow `path`: a live service node wins, then an alias, then (where no node is) an old path. */
  function resolve(path: string): Resolution {
    const chain: string[] = [];
    let aliasIndex = 0;
    let cur = path;
    for (let depth = 0; depth <= MAX_ALIAS_DEPTH; depth++) {
      const live = tree.byPath(cur);
      if (live && services.has(live.id)) return { nodeId: live.id, chain, aliasIndex };
      const a = aliases.get(cur);
      if (a) {
        chain.push(cur);
        aliasIndex = Math.max(aliasIndex, aliasRev.get(cur) ?? base);
        if (a.targetNodeId !== null) {
          const ok = tree.get(a.targetNodeId) !== undefined && services.has(a.targetNodeId);
          return { nodeId: ok ? a.targetNodeId : undefined, chain, aliasIndex };
        }
        cur = a.targetPath as string;
        continue;
      }
      if (live) break;
      const old = oldPaths.get(cur);
      if (old !== undefined && tree.get(old) && services.has(old)) {
        chain.push(cur);
        return { nodeId: old, chain, aliasIndex };
      }
      break;
    }
    return { nodeId: undefined, chain, aliasIndex };
  }

  function apply(c: DiscoveryChange): Effect {
    const e = emptyEffect();
    switch (c.kind) {
      case 'service':
        if (!services.has(c.service.nodeId)) e.reroute = true;
        services.set(c.service.nodeId, c.service);
        e.nodeIds.add(c.service.nodeId);
        break;
      case 'service.remove':
        services.delete(c.nodeId);
        for (const id of [...(byService.get(c.nodeId)?.keys() ?? [])]) dropInstance(id);
        byService.delete(c.nodeId);
        deps.delete(c.nodeId);
        e.nodeIds.add(c.nodeId);
        e.reroute = true;
        break;
      case 'instance':
        machines.set(c.machine.id, c.machine);
        for (const id of byMachine.get(c.machine.id) ?? []) e.nodeIds.add(instances.get(id)?.nodeId ?? c.instance.nodeId);
        putInstance(c.instance);
        e.nodeIds.add(c.instance.nodeId);
        break;
      case 'instance.remove':
        dropInstance(c.id);
        e.nodeIds.add(c.nodeId);
        break;
      case 'health': {
        const i = instances.get(c.id);
        if (i) putInstance({ ...i, health: c.health });
        e.nodeIds.add(c.nodeId);
        break;
      }
      case 'alias':
        aliases.set(c.alias.path, c.alias);
        e.aliasPaths.add(c.alias.path);
        e.reroute = true;
        break;
      case 'alias.remove':
        aliases.delete(c.path);
        e.aliasPaths.add(c.path);
        e.reroute = true;
        break;
      case 'dependencies':
        deps.set(c.nodeId, new Set(c.dependsOn));
        break;
    }
    return e;
  }

  /** A tree change: remember old paths of moved nodes (they keep resolving), reroute watchers. */
  function applyTree(c: TreeChange): Effect {
    const e = emptyEffect();
    for (const n of c.upsert ?? []) {
      const was = knownPath.get(n.id);
      if (was !== undefined && was !== n.path) oldPaths.set(was, n.id);
      knownPath.set(n.id, n.path);
      if (services.has(n.id)) e.nodeIds.add(n.id);
    }
    for (const id of c.remove ?? []) if (services.has(id)) e.nodeIds.add(id);
    e.reroute = (c.upsert?.length ?? 0) > 0 || (c.remove?.length ?? 0) > 0;
    return e;
  }

  /** A machine changed: refresh its address, zone and bindings if it serves any instance. */
  function applyMachine(m: MachineInfo): Effect {
    const e = emptyEffect();
    if (!machines.has(m.id)) return e;
    machines.set(m.id, m);
    for (const id of byMachine.get(m.id) ?? []) {
      const i = instances.get(id);
      if (i) e.nodeIds.add(i.nodeId);
    }
    return e;
  }

  /** Machines' agents went away (`down`) or came back: their instances' services answer anew. */
  function setAgentsDown(machineIds: readonly number[], down: boolean): Effect {
    const e = emptyEffect();
    for (const m of machineIds) {
      if (agentDown.has(m) === down) continue;
      if (down) agentDown.add(m);
      else agentDown.delete(m);
      for (const id of byMachine.get(m) ?? []) {
        const i = instances.get(id);
        if (i) e.nodeIds.add(i.nodeId);
      }
    }
    return e;
  }

  return {
    bump,
    apply,
    applyTree,
    applyMachine,
    setAgentsDown,
    /** Whether the machine's agent is unreachable (its instances answer as critical). */
    agentDown: (machineId: number) => agentDown.has(machineId),
    resolve,
    instanceViews,
    service: (nodeId: number) => services.get(nodeId),
    services: () => services.values(),
    instance: (id: number) => instances.get(id),
    instancesOf: (nodeId: number) => [...(byService.get(nodeId)?.values() ?? [])],
    /** Every instance with a heartbeat TTL. */
    *heartbeating(): Generator<InstanceRecord> {
      for (const id of withTtl) {
        const i = instances.get(id);
        if (i) yield i;
      }
    },
    instanceAt(nodeId: number, machineId: number, port: number): InstanceRecord | undefined {
      for (const i of byService.get(nodeId)?.values() ?? []) if (i.machineId === machineId && i.port === port) return i;
      return undefined;
    },
    instanceOf(nodeId: number, hostname: string, port: number): InstanceRecord | undefined {
      for (const i of byService.get(nodeId)?.values() ?? []) if (i.port === port && machines.get(i.machineId)?.hostname === hostname) return i;
      return undefined;
    },
    instanceView,
    alias: (path: string) => aliases.get(path),
    aliases: () => aliases.values(),
    dependencies: (nodeId: number) => [...(deps.get(nodeId) ?? [])],
    allDependencies: () => deps.entries(),
    index: (nodeId: number) => index.get(nodeId) ?? base,
    baseline: () => base,
    /** Changes when any answer may have changed; equal generations give equal answers. */
    generation: () => generation,

    /** The answer for `path`, or undefined when it leads to no service. */
    answer(path: string, opts: { healthyOnly: boolean; zone?: string | undefined }): Answer | undefined {
      const r = resolve(path);
      if (r.nodeId === undefined) return undefined;
      const svc = services.get(r.nodeId) as ServiceRecord;
      const sel = selectInstances(instanceViews(r.nodeId), svc, opts);
      return {
        found: true,
        path,
        service: tree.get(r.nodeId)?.path ?? path,
        aliasChain: r.chain,
        index: Math.max(index.get(r.nodeId) ?? base, r.aliasIndex),
        policy: svc.lb,
        ports: svc.ports,
        protected: sel.protected,
        zoneFallback: sel.zoneFallback,
        total: sel.total,
        healthy: sel.healthy,
        instances: sel.instances,
      };
    },

    /** Replace everything from a start-up snapshot. */
    load(s: DiscoverySnapshot): void {
      for (const m of [services, instances, byService, machines, byMachine, aliases, aliasRev, oldPaths, knownPath, deps, index, views, withTtl, agentDown]) m.clear();
      generation++;
      base = s.revision;
      for (const sv of s.services) services.set(sv.nodeId, sv);
      for (const m of s.machines) machines.set(m.id, m);
      for (const i of s.instances) putInstance(i);
      for (const a of s.aliases) aliases.set(a.path, a);
      for (const d of s.dependencies) deps.set(d.nodeId, new Set([...(deps.get(d.nodeId) ?? []), d.dependsOn]));
      for (const o of s.oldPaths) if (!oldPaths.has(o.oldPath)) oldPaths.set(o.oldPath, o.nodeId);
      for (const n of s.trashed) knownPath.set(n.id, n.path);
      for (const n of tree.all()) knownPath.set(n.id, n.path);
    },
  };
}
