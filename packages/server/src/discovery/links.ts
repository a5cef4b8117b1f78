/**
 * Links between services: CNAME-style aliases (one path answering with another's instances) and
 * the dependency graph (declared plus observed edges).
 */
import { ConflictError, MAX_ALIAS_DEPTH, NotFoundError, ValidationError, isWithin, type AliasView, type FieldIssue, type GraphView } from '@canopy/core';
import type { Actor, WriteContext, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import { iso, type TreeNode, type TreeService } from '../tree/index.ts';
import { buildGraph, mergeEdges, type EdgeRecorder } from './graph.ts';
import type { AliasRecord, DiscoveryChange } from './records.ts';
import type { Registry } from './registry.ts';
import * as repo from './repo.ts';

interface LinkDeps {
  writer: Writer;
  db: Queryable;
  tree: TreeService;
  registry: Registry;
  edges: EdgeRecorder;
  emit: (w: WriteContext, change: DiscoveryChange) => void;
}

type Hop = Pick<AliasRecord, 'targetNodeId' | 'targetPath'>;

/** Alias and dependency operations over the registry. */
export function createLinks(deps: LinkDeps) {
  const { writer, tree, registry, emit } = deps;
  const pathOf = (id: number) => tree.model.get(id)?.path;

  function isService(path: string): TreeNode | undefined {
    const n = tree.model.byPath(path);
    return n && registry.service(n.id) ? n : undefined;
  }

  function aliasView(a: AliasRecord): AliasView {
    const r = registry.resolve(a.path);
    return {
      path: a.path,
      target: a.targetNodeId !== null ? (pathOf(a.targetNodeId) ?? `#${a.targetNodeId}`) : (a.targetPath as string),
      resolvesTo: r.nodeId === undefined ? null : (pathOf(r.nodeId) ?? null),
      chain: r.chain,
      version: a.version,
      updatedAt: iso(a.updatedAt),
    };
  }

  /** Aliases followed from `from` with `path` mapped to `hop`: a count, or 'loop'. */
  function hopsFrom(from: string, path: string, hop: Hop): number | 'loop' {
    const seen = new Set<string>();
    let cur = from;
    for (;;) {
      if (isService(cur)) return seen.size;
      const a = cur === path ? hop : registry.alias(cur);
      if (!a) return seen.size;
      if (seen.has(cur)) return 'loop';
      seen.add(cur);
      if (a.targetNodeId !== null) return seen.size;
      cur = a.targetPath as string;
    }
  }

  /** The first hop of an alias to `target`: a service node by id, or another alias by path. */
  function hopTo(target: string): Hop {
    const live = isService(target);
    if (live) return { targetNodeId: live.id, targetPath: null };
    if (registry.alias(target)) return { targetNodeId: null, targetPath: target };
    const r = registry.resolve(target);
    if (r.nodeId === undefined) throw new ValidationError(`'${target}' is neither a service nor an alias`, [{ path: ['target'], message: 'does not resolve to a service' }]);
    return { targetNodeId: r.nodeId, targetPath: null };
  }

  function dependencies(path: string): { path: string; services: string[] } {
    const node = isService(path);
    if (!node) throw new NotFoundError('service', path);
    return { path, services: registry.dependencies(node.id).flatMap((id) => pathOf(id) ?? []).sort() };
  }

  return {
    /** The next name of a path that is an alias or an old path of a service (for CNAME answers). */
    lookupAlias(path: string): { target: string; kind: 'alias' | 'renamed' } | undefined {
      if (isService(path)) return undefined;
      const a = registry.alias(path);
      if (a) return { target: a.targetNodeId !== null ? (pathOf(a.targetNodeId) ?? '') : (a.targetPath as string), kind: 'alias' };
      const r = registry.resolve(path);
      if (r.nodeId === undefined || r.chain[0] !== path) return undefined;
      return { target: pathOf(r.nodeId) as string, kind: 'renamed' };
    },

    api: {
      alias(path: string): AliasView {
        const a = registry.alias(path);
        if (!a) throw new NotFoundError('alias', path);
        return aliasView(a);
      },

      listAliases(under: string | undefined, visible: (path: string) => boolean): AliasView[] {
        return [...registry.aliases()]
          .filter((a) => (!under || isWithin(a.path, under)) && visible(a.path))
          .sort((a, b) => (a.path < b.path ? -1 : 1))
          .map(aliasView);
      },

      /** Point `path` at `target` in one change: watchers see the old answer, then the new one. */
      async putAlias(actor: Actor, path: string, target: string): Promise<{ alias: AliasView; created: boolean }> {
        const created = await writer.run(actor, async (w) => {
          if (isService(path)) throw new ConflictError(`'${path}' is a registered service; an alias cannot shadow it`, { path });
          if (target === path) throw new ValidationError('an alias cannot name itself', [{ path: ['target'], message: 'forms a loop' }]);
          const hop = hopTo(target);
          const own = hopsFrom(path, path, hop);
          if (own === 'loop') throw new ValidationError(`'${path}' → '${target}' would form an alias loop`, [{ path: ['target'], message: 'forms a loop' }]);
          for (const a of [path, ...[...registry.aliases()].map((x) => x.path)]) {
            const n = hopsFrom(a, path, hop);
            if (n === 'loop' || n > MAX_ALIAS_DEPTH) {
              throw new ValidationError(`alias chains may be at most ${MAX_ALIAS_DEPTH} long; '${a}' would follow ${n === 'loop' ? 'a loop' : n}`, [{ path: ['target'], message: 'chain too long' }]);
            }
          }
          const before = registry.alias(path);
          const row = await repo.upsertAlias(w.tx, { path, ...hop });
          w.audit({ operation: before ? 'discovery.alias.switch' : 'discovery.alias.create', targetKind: 'alias', target: path, nodeId: tree.model.byPath(path)?.id ?? null, nodePath: path, before, after: { ...row, targetPathNow: target } });
          emit(w, { kind: 'alias', alias: row });
          return !before;
        });
        return { alias: aliasView(registry.alias(path) as AliasRecord), created };
      },

      async deleteAlias(actor: Actor, path: string): Promise<void> {
        await writer.run(actor, async (w) => {
          const a = registry.alias(path);
          if (!a) throw new NotFoundError('alias', path);
          const naming = [...registry.aliases()].filter((x) => x.targetPath === path).map((x) => x.path);
          if (naming.length > 0) throw new ConflictError(`aliases still name '${path}': ${naming.join(', ')}`, { aliases: naming });
          await repo.deleteAlias(w.tx, path);
          w.audit({ operation: 'discovery.alias.delete', targetKind: 'alias', target: path, nodeId: tree.model.byPath(path)?.id ?? null, nodePath: path, before: a });
          emit(w, { kind: 'alias.remove', path });
        });
      },

      dependencies,

      /** Replace what `path` declares it calls; each entry must lead to a service. */
      async setDependencies(actor: Actor, path: string, services: string[]): Promise<{ path: string; services: string[] }> {
        await writer.run(actor, async (w) => {
          const node = isService(path);
          if (!node) throw new NotFoundError('service', path);
          const issues: FieldIssue[] = [];
          const ids = services.map((s, i) => {
            const id = registry.resolve(s).nodeId;
            if (id === undefined) issues.push({ path: ['services', i], message: `'${s}' is not a service` });
            else if (id === node.id) issues.push({ path: ['services', i], message: 'a service cannot depend on itself' });
            return id ?? -1;
          });
          if (issues.length > 0) throw new ValidationError('invalid dependencies', issues);
          const dependsOn = [...new Set(ids)];
          await repo.setDependencies(w.tx, node.id, dependsOn);
          const before = registry.dependencies(node.id).flatMap((id) => pathOf(id) ?? []);
          w.audit({ operation: 'discovery.dependencies.set', targetKind: 'service', target: path, nodeId: node.id, nodePath: path, before, after: services });
          emit(w, { kind: 'dependencies', nodeId: node.id, dependsOn });
        });
        return dependencies(path);
      },

      /** Count one lookup of `calleeId` made on behalf of `callerId`. */
      recordLookup(callerId: number, calleeId: number): void {
        deps.edges.record(callerId, calleeId);
      },

      /** Upstreams and downstreams of a node to `depth` hops; nodes `visible` rejects are left out. */
      graph(path: string, depth: number, visible: (node: TreeNode) => boolean): Promise<GraphView> {
        const root = tree.node(path);
        return buildGraph(
          root.id,
          depth,
          async (ids) => {
            const set = new Set(ids);
            const declared: [number, number][] = [];
            for (const [from, tos] of registry.allDependencies()) for (const to of tos) if (set.has(from) || set.has(to)) declared.push([from, to]);
            const stored = await repo.observedTouching(deps.db, ids);
            const pending = deps.edges.pending().filter((p) => set.has(p.caller) || set.has(p.callee));
            return mergeEdges(declared, stored, pending);
          },
          (id) => {
            const n = tree.model.get(id);
            return n && visible(n) ? { path: n.path, service: registry.service(id) !== undefined } : undefined;
          },
        );
      },
    },
  };
}
