/**
 * Environment initialisation per node: the command an `init` job runs on a machine is the one set
 * on its node or, failing that, on the nearest ancestor; with none anywhere above, Puppet (Canopy
 * is its ENC). A machine bound to several nodes takes the binding inside the job's subtree, and of
 * those the one whose command is set nearest to it (the most specific), ties by path.
 */
import { NotFoundError, type InitCommand, type InitCommandInput, type InitCommandView } from '@canopy/core';
import type { Actor, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import type { TreeNode, TreeService } from '../tree/index.ts';
import * as repo from './init-repo.ts';

/** Default environment initialisation: Puppet, with Canopy as its ENC. Exit 2 means "changes applied". */
export const DEFAULT_INIT: InitCommand = { argv: ['puppet', 'agent', '--test'], okExitCodes: [0, 2] };

/** What one node's machines run: the command and the node it is set on (undefined: the default). */
interface Effective {
  command: InitCommand;
  from: TreeNode | undefined;
  /** Depth of `from` (its number of ancestors); -1 for the default. */
  depth: number;
}

export type InitCommands = ReturnType<typeof createInitCommands>;

/** Build the per-node init commands over the tree. */
export function createInitCommands(deps: { writer: Writer; db: Queryable; tree: TreeService }) {
  const { writer, db, tree } = deps;

  function effective(node: TreeNode, own: Map<number, repo.InitCommandRow>): Effective {
    const line = [...tree.model.ancestors(node.id), node];
    for (let i = line.length - 1; i >= 0; i--) {
      const n = line[i]!;
      const row = own.get(n.id);
      if (row) return { command: row.command, from: n, depth: i };
    }
    return { command: DEFAULT_INIT, from: undefined, depth: -1 };
  }

  function normalise(input: InitCommandInput): InitCommand {
    const okExitCodes = input.okExitCodes ?? [0];
    return input.argv !== undefined ? { argv: input.argv, okExitCodes } : { script: input.script!, okExitCodes };
  }

  async function viewOf(q: Queryable, node: TreeNode): Promise<InitCommandView> {
    const own = await repo.allInitCommands(q);
    const mine = own.get(node.id);
    const e = effective(node, own);
    return { node: node.path, own: mine?.command ?? null, effective: e.command, from: e.from?.path ?? null, updatedBy: mine?.updatedBy ?? null, updatedAt: mine ? new Date(mine.updatedAt).toISOString() : null };
  }

  return {
    /** The node's own command (if any) and the one its machines run. */
    get: (path: string) => viewOf(db, tree.node(path)),

    /** Set the node's command; audited with what it replaced. */
    set: (actor: Actor, path: string, input: InitCommandInput) =>
      writer.run(actor, async (w) => {
        const node = tree.node(path);
        const before = await repo.initCommandOf(w.tx, node.id, true);
        const command = normalise(input);
        await repo.putInitCommand(w.tx, node.id, command, actor.name);
        w.audit({ operation: 'node.init_command.set', targetKind: 'node', target: node.path, nodeId: node.id, nodePath: node.path, before: before?.command ?? null, after: command });
        return viewOf(w.tx, node);
      }),

    /** Remove the node's command (its machines inherit again); 404 when it had none. */
    remove: (actor: Actor, path: string) =>
      writer.run(actor, async (w) => {
        const node = tree.node(path);
        const before = await repo.initCommandOf(w.tx, node.id, true);
        if (!before || !(await repo.deleteInitCommand(w.tx, node.id))) throw new NotFoundError('init command', node.path);
        w.audit({ operation: 'node.init_command.delete', targetKind: 'node', target: node.path, nodeId: node.id, nodePath: node.path, before: before.command });
      }),

    /**
     * The command each machine runs in an init job under `within` (null: any of its nodes), read in
     * the caller's transaction, with where it comes from.
     */
    async resolve(q: Queryable, machines: { id: number; nodeIds: number[] }[], within: TreeNode | null): Promise<Map<number, { command: InitCommand; from: string | null }>> {
      const own = await repo.allInitCommands(q);
      const out = new Map<number, { command: InitCommand; from: string | null }>();
      for (const m of machines) {
        const nodes = m.nodeIds.map((id) => tree.model.get(id)).filter((n): n is TreeNode => n !== undefined);
        const inside = within ? nodes.filter((n) => n.path === within.path || n.path.startsWith(`${within.path}.`)) : nodes;
        const candidates = (inside.length > 0 ? inside : nodes).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
        let best: Effective = { command: DEFAULT_INIT, from: undefined, depth: -1 };
        for (const n of candidates) {
          const e = effective(n, own);
          if (e.depth > best.depth) best = e;
        }
        out.set(m.id, { command: best.command, from: best.from?.path ?? null });
      }
      return out;
    },
  };
}
