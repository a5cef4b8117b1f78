/**
 * The in-memory cron read model: every node's own entries, fed by the change feed (topic `cron`),
 * so any replica computes a machine's effective table (the agent's `cron` document) from memory.
 */
import { machineCron, type CronDocEntry, type CronLineNode, type CronOwn } from '@canopy/core';
import type { TreeModel, TreeNode } from '../tree/index.ts';
import type { CronEntryRow } from './repo.ts';

export const CRON_TOPIC = 'cron';

/** A change of one node's entry (`entry` null: removed). */
export interface CronChange {
  nodeId: number;
  name: string;
  entry: CronOwn | null;
}

/** Own entries from a database row. */
export function ownOf(row: CronEntryRow): CronOwn {
  return { name: row.name, spec: row.spec, updatedBy: row.updatedBy, updatedAt: new Date(row.updatedAt).toISOString() };
}

export type CronModel = ReturnType<typeof createCronModel>;

/** An empty model over `tree`. */
export function createCronModel(tree: TreeModel) {
  const byNode = new Map<number, Map<string, CronOwn>>();

  function line(node: TreeNode): CronLineNode[] {
    return [...tree.ancestors(node.id), node].map((n) => ({ id: n.id, path: n.path, own: byNode.get(n.id) }));
  }

  return {
    load(all: CronEntryRow[]): void {
      byNode.clear();
      for (const r of all) this.apply({ nodeId: r.nodeId, name: r.name, entry: ownOf(r) });
    },
    apply(c: CronChange): void {
      let own = byNode.get(c.nodeId);
      if (c.entry) {
        if (!own) byNode.set(c.nodeId, (own = new Map()));
        own.set(c.name, c.entry);
        // Keep names in order, so tables and documents are stable.
        byNode.set(c.nodeId, new Map([...own].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
      } else if (own) {
        own.delete(c.name);
        if (own.size === 0) byNode.delete(c.nodeId);
      }
    },
    own: (nodeId: number): ReadonlyMap<string, CronOwn> => byNode.get(nodeId) ?? new Map(),
    /** The line from the root to `node`, each with what it declares. */
    line,
    /** The table a machine bound to these nodes runs. */
    machineTable(nodeIds: readonly number[]): CronDocEntry[] {
      const lines = nodeIds.map((id) => tree.get(id)).filter((n): n is TreeNode => n !== undefined).map(line);
      return machineCron(lines);
    },
  };
}
