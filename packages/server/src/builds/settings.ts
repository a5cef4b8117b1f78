/**
 * Build settings per node (the build pool, builds per machine, the OS user), each inherited from
 * the nearest ancestor that sets it. Naming a pool hands the pool's machines to everyone who may
 * build below the node, so it needs the right to run commands there: `machine.root` on the pool
 * when builds run as root, `machine.exec` otherwise.
 */
import { NotFoundError, ValidationError, type BuildSettingsInput, type BuildSettingsView } from '@canopy/core';
import type { Actor, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import type { AuthService } from '../auth/index.ts';
import type { TreeService } from '../tree/index.ts';
import * as repo from './repo.ts';

export const BUILD_SETTINGS_TOPIC = 'build.settings';
export const DEFAULT_MAX_PER_MACHINE = 1;
export const DEFAULT_BUILD_USER = 'root';

export interface Effective {
  pool: { id: number; path: string; from: string } | null;
  maxPerMachine: { value: number; from: string | null };
  user: { value: string; from: string | null };
}

/** The settings that apply at `nodeId`, from `rows` (every node's own) over the tree. */
export function effectiveAt(tree: TreeService, rows: repo.SettingsRow[], nodeId: number): Effective {
  const byNode = new Map(rows.map((r) => [r.nodeId, r]));
  const chain = [tree.model.get(nodeId), ...tree.model.ancestors(nodeId).reverse()].filter((n) => n !== undefined);
  const out: Effective = { pool: null, maxPerMachine: { value: DEFAULT_MAX_PER_MACHINE, from: null }, user: { value: DEFAULT_BUILD_USER, from: null } };
  let pool = false;
  let max = false;
  let user = false;
  for (const n of chain) {
    const r = byNode.get(n.id);
    if (!r) continue;
    if (!pool && r.poolNodeId !== null) {
      pool = true;
      const p = tree.model.get(r.poolNodeId);
      out.pool = p ? { id: p.id, path: p.path, from: n.path } : null;
    }
    if (!max && r.maxPerMachine !== null) {
      max = true;
      out.maxPerMachine = { value: r.maxPerMachine, from: n.path };
    }
    if (!user && r.runAs !== null) {
      user = true;
      out.user = { value: r.runAs, from: n.path };
    }
  }
  return out;
}

export type BuildSettings = ReturnType<typeof createBuildSettings>;

/** The settings service. */
export function createBuildSettings(deps: { writer: Writer; db: Queryable; tree: TreeService; auth: AuthService }) {
  const { writer, db, tree, auth } = deps;

  async function view(nodeId: number, q: Queryable = db): Promise<BuildSettingsView> {
    const rows = await repo.allSettings(q);
    const own = rows.find((r) => r.nodeId === nodeId);
    const e = effectiveAt(tree, rows, nodeId);
    return {
      nodePath: tree.model.get(nodeId)?.path ?? `#${nodeId}`,
      own: { pool: own?.poolNodeId ? (tree.model.get(own.poolNodeId)?.path ?? null) : null, maxPerMachine: own?.maxPerMachine ?? null, user: own?.runAs ?? null },
      effective: {
        pool: { value: e.pool?.path ?? null, from: e.pool?.from ?? null },
        maxPerMachine: e.maxPerMachine,
        user: e.user,
      },
    };
  }

  return {
    view,
    /** Change what `nodePath` sets (absent fields keep their value, null clears one). */
    async put(actor: Actor, nodePath: string, input: BuildSettingsInput): Promise<BuildSettingsView> {
      const node = auth.nodeFor(actor, 'deploy.run', nodePath);
      let poolId: number | null | undefined;
      if (input.pool !== undefined && input.pool !== null) {
        const p = tree.model.byPath(input.pool);
        if (!p || !auth.visible(actor, p)) throw new ValidationError(`no node '${input.pool}' to build on`, [{ path: ['pool'], message: 'no such node' }]);
        poolId = p.id;
      } else poolId = input.pool;
      await writer.run(actor, async (w) => {
        const rows = await repo.allSettings(w.tx);
        const before = rows.find((r) => r.nodeId === node.id) ?? { nodeId: node.id, poolNodeId: null, maxPerMachine: null, runAs: null };
        const after: repo.SettingsRow = {
          nodeId: node.id,
          poolNodeId: poolId === undefined ? before.poolNodeId : poolId,
          maxPerMachine: input.maxPerMachine === undefined ? before.maxPerMachine : input.maxPerMachine,
          runAs: input.user === undefined ? before.runAs : input.user,
        };
        const e = effectiveAt(tree, [...rows.filter((r) => r.nodeId !== node.id), after], node.id);
        if (e.pool && (input.pool !== undefined || input.user !== undefined)) {
          const op = e.user.value === 'root' ? 'machine.root' : 'machine.exec';
          const pool = tree.model.get(e.pool.id);
          if (!pool) throw new NotFoundError('node', e.pool.path);
          auth.authorize(actor, op, pool);
        }
        await repo.putSettings(w.tx, after, actor.name);
        w.audit({ operation: 'build.settings', targetKind: 'node', target: node.path, nodeId: node.id, nodePath: node.path, before, after });
        w.emit(BUILD_SETTINGS_TOPIC, { nodeId: node.id });
      });
      return view(node.id);
    },
  };
}
