/**
 * Which rules hold on a node: walking from the root down, a rule set on a node replaces the
 * inherited rule of the same name, and a disabling entry removes it — so "corp: disk > 90 %" and
 * "corp.db: disk > 95 %" never both judge a database machine (Open-Falcon overrides only on an exact
 * metric+tags match, falcon-plus #495; Canopy overrides by name). A machine bound to several nodes
 * takes, per name, the entry set nearest to it (the deepest), ties by path.
 */
import type { AlertRuleSpec } from './schema.ts';

/** A rule (or disabling entry) as set on one node. */
export interface OwnAlertRule {
  nodeId: number;
  nodePath: string;
  name: string;
  spec: AlertRuleSpec;
  updatedBy: string;
  updatedAt: string;
}

/** A rule in force on a node, with where it comes from and what it replaced. */
export interface EffectiveAlertRule {
  name: string;
  /** The entry deciding it: a rule, or a disabling entry (`spec.disabled`). */
  rule: OwnAlertRule;
  /** Depth of the node it is set on (root 0). */
  depth: number;
  /** Paths of ancestors whose rule of this name it replaces, nearest first. */
  overrides: string[];
}

/** Effective entries of the node at the end of `line` (root first), disabling entries included. */
export function effectiveAlertRules(line: readonly { id: number }[], own: ReadonlyMap<number, readonly OwnAlertRule[]>): EffectiveAlertRule[] {
  const byName = new Map<string, EffectiveAlertRule>();
  line.forEach((node, depth) => {
    for (const rule of own.get(node.id) ?? []) {
      const before = byName.get(rule.name);
      const overrides = before ? [before.rule.nodePath, ...before.overrides] : [];
      byName.set(rule.name, { name: rule.name, rule, depth, overrides });
    }
  });
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The rules that judge a machine, given the effective entries of each node it is bound to; disabled ones dropped. */
export function machineAlertRules(perBinding: readonly { nodePath: string; rules: readonly EffectiveAlertRule[] }[]): { via: string; rule: EffectiveAlertRule }[] {
  const best = new Map<string, { via: string; rule: EffectiveAlertRule }>();
  for (const b of perBinding) {
    for (const r of b.rules) {
      const seen = best.get(r.name);
      if (!seen || r.depth > seen.rule.depth || (r.depth === seen.rule.depth && b.nodePath < seen.via)) best.set(r.name, { via: b.nodePath, rule: r });
    }
  }
  return [...best.values()].filter((x) => !x.rule.rule.spec.disabled);
}
