/** Writes to the registry (services, instances) and their views; heartbeats hand over to health. */
import { ConflictError, NotFoundError, ValidationError, isServing, type HeartbeatInput, type InstanceInput, type ServiceInput, type ServiceView } from '@canopy/core';
import type { Actor, WriteContext, Writer } from '../changes/index.ts';
import { iso, type TreeNode, type TreeService } from '../tree/index.ts';
import type { HealthTracker } from './health.ts';
import type { DiscoveryChange } from './records.ts';
import type { Registry } from './registry.ts';
import * as repo from './repo.ts';

interface OpsDeps {
  writer: Writer;
  tree: TreeService;
  registry: Registry;
  health: HealthTracker;
  emit: (w: WriteContext, change: DiscoveryChange) => void;
}

/** Service and instance operations over the registry. */
export function createRegistryOps(deps: OpsDeps) {
  const { writer, tree, registry, health, emit } = deps;

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
    return registry.instanceView(i);
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

  /**
   * Why the service on `node` may not go now: aliases naming it, services outside `going` declaring
   * they call it, and (unless forced) its registered instances. The service delete and the tree's
   * node delete both refuse on exactly these.
   */
  function deleteBlockers(node: TreeNode, o: { force: boolean; going: ReadonlySet<number> }): { reasons: string[]; details: { aliases?: string[]; dependents?: string[]; instances?: number } } {
    const reasons: string[] = [];
    const details: { aliases?: string[]; dependents?: string[]; instances?: number } = {};
    if (!registry.service(node.id)) return { reasons, details };
    const naming = [...registry.aliases()].filter((a) => a.targetNodeId === node.id).map((a) => a.path).sort();
    if (naming.length > 0) {
      reasons.push(`aliases still name '${node.path}': ${naming.join(', ')}; switch or delete them first`);
      details.aliases = naming;
    }
    const callers: string[] = [];
    for (const [from, to] of registry.allDependencies()) {
      const caller = tree.model.get(from);
      if (to.has(node.id) && !o.going.has(from) && caller && registry.service(from)) callers.push(caller.path);
    }
    if (callers.length > 0) {
      reasons.push(`services declare they depend on '${node.path}': ${callers.sort().join(', ')}; change their dependencies first`);
      details.dependents = callers;
    }
    const count = registry.instancesOf(node.id).length;
    if (count > 0 && !o.force) {
      reasons.push(`'${node.path}' has ${count} registered instance(s); deregister them or delete the service with ?force=true`);
      details.instances = count;
    }
    return { reasons, details };
  }

  return {
    serviceView,
    serviceNode,
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

    deleteBlockers,

    async deleteService(actor: Actor, path: string, force: boolean): Promise<void> {
      await writer.run(actor, async (w) => {
        const node = serviceNode(path);
        const blocked = deleteBlockers(node, { force, going: new Set([node.id]) });
        if (blocked.reasons.length > 0) throw new ConflictError(blocked.reasons.join('; '), blocked.details);
        const count = registry.instancesOf(node.id).length;
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
        let row = existing
          ? await repo.updateInstance(w.tx, existing.id, { ...input, portName })
          : await repo.insertInstance(w.tx, { nodeId: node.id, machineId: m.id, port, portName, ip: input.ip ?? null, weight: input.weight ?? 1, status: input.status ?? 'up', ttlSeconds: input.ttlSeconds ?? null, meta: input.meta ?? {} });
        // Registering is the instance saying it runs: one whose TTL lapsed starts afresh, as a new one does.
        if (existing?.health === 'critical') {
          await repo.setHealth(w.tx, row.id, 'passing');
          row = { ...row, health: 'passing' };
        }
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
    heartbeat(path: string, hostname: string, port: number, input: HeartbeatInput) {
      const i = registry.instanceOf(serviceNode(path).id, hostname, port);
      if (!i) throw new NotFoundError('instance', `${path}/${hostname}:${port}`);
      const r = health.heartbeat(i.id, input.status);
      const now = registry.instance(i.id) ?? i;
      return { health: r.health, status: now.status, ttlSeconds: now.ttlSeconds, passes: r.passes, failures: r.failures };
    },

  };
}
