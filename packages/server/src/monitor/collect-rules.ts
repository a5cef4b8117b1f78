/**
 * Collect rules on nodes: each node's own list in the database and in a read model fed by the
 * change feed (so every replica computes the same documents), the effective list of a node with
 * where each rule comes from, and the per-machine document `collect` its agent runs. A write is
 * audited with what it replaced; a script rule needs `machine.root` on the node (it runs there
 * as the agent's user), the other kinds `monitor.write`.
 */
import { effectiveRules, machineRules, type CollectDoc, type CollectRule, type CollectRulesView } from '@canopy/core';
import type { Actor, ChangeFeed, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import type { Dispatcher } from '../agents/index.ts';
import { MACHINE_TOPIC, type MachineService } from '../machines/index.ts';
import { TREE_TOPIC, type TreeNode, type TreeService } from '../tree/index.ts';
import * as repo from './repo.ts';

export const COLLECT_TOPIC = 'monitor.collect';
export const COLLECT_DOC = 'collect';

export type CollectRules = ReturnType<typeof createCollectRules>;

/** Build the collect rules over the tree; `load()` before `start()`. */
export function createCollectRules(deps: { writer: Writer; feed: ChangeFeed; db: Queryable; tree: TreeService; machines: MachineService; dispatcher: Dispatcher; onError?: ((err: unknown) => void) | undefined }) {
  const { writer, feed, db, tree, machines, dispatcher } = deps;
  const onError = deps.onError ?? (() => {});
  let own = new Map<number, CollectRule[]>();
  let timer: NodeJS.Timeout | undefined;

  function effective(node: TreeNode) {
    const line = [...tree.model.ancestors(node.id), node];
    return effectiveRules(line.map((n) => ({ path: n.path, rules: own.get(n.id) ?? [] })));
  }

  function docOf(machineId: number): CollectDoc | undefined {
    const m = machines.model.get(machineId);
    if (!m) return undefined;
    const perNode = m.nodeIds.map((id) => tree.model.get(id)).filter((n): n is TreeNode => n !== undefined).map(effective);
    return { rules: machineRules(perNode) };
  }

  // Bindings, moves and rule changes all may change documents; the channel sends only changed ones.
  const refreshSoon = () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      dispatcher.refreshDoc(COLLECT_DOC).catch(onError);
    }, 50);
  };
  feed.on(COLLECT_TOPIC, (c) => {
    const { nodeId, rules } = c.payload as { nodeId: number; rules: CollectRule[] };
    if (rules.length === 0) own.delete(nodeId);
    else own.set(nodeId, rules);
    refreshSoon();
  });
  feed.on(MACHINE_TOPIC, refreshSoon);
  feed.on(TREE_TOPIC, refreshSoon);

  return {
    /** The node's own rules and what its machines run. */
    view(node: TreeNode): CollectRulesView {
      return { node: node.path, own: own.get(node.id) ?? [], effective: effective(node).map((e) => ({ rule: e.rule, from: e.from })) };
    },
    /** Replace the node's own rules (an empty list removes them); audited. */
    set: (actor: Actor, node: TreeNode, rules: CollectRule[]) =>
      writer.run(actor, async (w) => {
        const before = (await repo.collectRulesOf(w.tx, node.id)) ?? [];
        await repo.putCollectRules(w.tx, node.id, rules, actor.name);
        w.audit({ operation: 'monitor.collect_rules.set', targetKind: 'node', target: node.path, nodeId: node.id, nodePath: node.path, before, after: rules });
        w.emit(COLLECT_TOPIC, { nodeId: node.id, rules });
      }),
    /** True when the node's new list adds or changes a script rule (those need machine.root). */
    touchesScripts(node: TreeNode, rules: CollectRule[]): boolean {
      const old = new Map((own.get(node.id) ?? []).map((r) => [r.name, JSON.stringify(r)]));
      return rules.some((r) => r.kind === 'script' && old.get(r.name) !== JSON.stringify(r)) || [...(own.get(node.id) ?? [])].some((r) => r.kind === 'script' && !rules.some((n) => n.name === r.name));
    },
    docOf,
    async load(q: Queryable = db): Promise<void> {
      own = await repo.allCollectRules(q);
    },
    start(): void {
      dispatcher.provideDoc(COLLECT_DOC, docOf);
    },
    stop(): void {
      clearTimeout(timer);
    },
  };
}
