/**
 * Alerting's read model, the same on every replica: rules and receivers by node, current
 * silences, live alerts. Loaded at start, kept by the change feed (handlers upsert).
 */
import { effectiveAlertRules, labelsMatch, machineAlertRules, type AlertReceiverInput, type AlertRuleSpec, type EffectiveAlertRule, type OwnAlertRule } from '@canopy/core';
import type { TreeModel, TreeNode } from '../tree/index.ts';
import { iso } from '../tree/index.ts';
import type { AlertRow, EntryRow, SilenceRow } from './repo.ts';

export const ALERT_CONFIG_TOPIC = 'alert.config';
export const ALERT_SILENCE_TOPIC = 'alert.silence';
export const ALERT_TOPIC = 'alert';

/** `alert.config`: one node's rule or receiver set (`row`) or removed (null). */
export interface ConfigChange {
  kind: 'rule' | 'receiver';
  nodeId: number;
  name: string;
  row: EntryRow<unknown> | null;
}

/** A timestamp as ISO text, whichever way the driver handed it over (Date or text). */
export const toIso = (v: unknown): string => (v instanceof Date ? v.toISOString() : iso(String(v)));
const isoOrNull = (v: unknown) => (v === null || v === undefined ? null : toIso(v));
const silenceOf = (s: SilenceRow): SilenceRow => ({ ...s, startsAt: toIso(s.startsAt), endsAt: toIso(s.endsAt), createdAt: toIso(s.createdAt) });

export type AlertModel = ReturnType<typeof createAlertModel>;

/** An empty model over `tree`. */
export function createAlertModel(tree: TreeModel) {
  const rules = new Map<number, Map<string, EntryRow<AlertRuleSpec>>>();
  const receivers = new Map<number, Map<string, EntryRow<AlertReceiverInput>>>();
  const silences = new Map<number, SilenceRow>();
  const live = new Map<number, AlertRow>();
  const liveByKey = new Map<string, AlertRow>();
  let version = 0;
  let ownCache: { version: number; gen: number; map: Map<number, OwnAlertRule[]> } | undefined;

  function setEntry<S>(m: Map<number, Map<string, EntryRow<S>>>, nodeId: number, name: string, row: EntryRow<S> | null): void {
    let byName = m.get(nodeId);
    if (row) {
      if (!byName) m.set(nodeId, (byName = new Map()));
      byName.set(name, { ...row, updatedAt: iso(row.updatedAt) });
    } else byName?.delete(name);
  }

  function ownRules(): Map<number, OwnAlertRule[]> {
    if (ownCache && ownCache.version === version && ownCache.gen === tree.generation()) return ownCache.map;
    const map = new Map<number, OwnAlertRule[]>();
    for (const [nodeId, byName] of rules) {
      const node = tree.get(nodeId);
      if (!node) continue;
      map.set(nodeId, [...byName.values()].map((r) => ({ nodeId, nodePath: node.path, name: r.name, spec: r.spec, updatedBy: r.updatedBy, updatedAt: r.updatedAt })));
    }
    ownCache = { version, gen: tree.generation(), map };
    return map;
  }

  function putAlert(raw: AlertRow): void {
    const row: AlertRow = { ...raw, startedAt: toIso(raw.startedAt), firedAt: isoOrNull(raw.firedAt), resolvedAt: isoOrNull(raw.resolvedAt), ackedAt: isoOrNull(raw.ackedAt), lastNotifiedAt: isoOrNull(raw.lastNotifiedAt) };
    const prev = live.get(row.id);
    if (prev) liveByKey.delete(prev.key);
    if (row.state === 'resolved') live.delete(row.id);
    else {
      live.set(row.id, row);
      liveByKey.set(row.key, row);
    }
  }

  return {
    load(r: EntryRow<AlertRuleSpec>[], rc: EntryRow<AlertReceiverInput>[], s: SilenceRow[], a: AlertRow[]): void {
      rules.clear();
      receivers.clear();
      silences.clear();
      live.clear();
      liveByKey.clear();
      for (const row of r) setEntry(rules, row.nodeId, row.name, row);
      for (const row of rc) setEntry(receivers, row.nodeId, row.name, row);
      for (const row of s) silences.set(row.id, silenceOf(row));
      for (const row of a) putAlert(row);
      version++;
    },
    applyConfig(c: ConfigChange): void {
      if (c.kind === 'rule') setEntry(rules, c.nodeId, c.name, c.row as EntryRow<AlertRuleSpec> | null);
      else setEntry(receivers, c.nodeId, c.name, c.row as EntryRow<AlertReceiverInput> | null);
      version++;
    },
    applySilence(row: SilenceRow): void {
      silences.set(row.id, silenceOf(row));
    },
    applyAlerts(rows: AlertRow[]): void {
      for (const row of rows) putAlert(row);
    },
    /** Bumped on every rule change, so the evaluator knows when its per-machine cache is stale. */
    version: () => `${version}/${tree.generation()}`,
    ownRules: (nodeId: number) => [...(rules.get(nodeId)?.values() ?? [])],
    ownReceivers: (nodeId: number) => [...(receivers.get(nodeId)?.values() ?? [])],
    /** A node's effective entries (disabling ones included), root first down to it. */
    effective(node: TreeNode): EffectiveAlertRule[] {
      return effectiveAlertRules([...tree.ancestors(node.id), node], ownRules());
    },
    /** The rules judging a machine bound to `nodeIds`, each with the node it reaches the machine through. */
    forMachine(nodeIds: readonly number[]) {
      const perBinding = nodeIds
        .map((id) => tree.get(id))
        .filter((n): n is TreeNode => n !== undefined)
        .map((n) => ({ nodePath: n.path, rules: effectiveAlertRules([...tree.ancestors(n.id), n], ownRules()) }));
      return machineAlertRules(perBinding);
    },
    /** The receiver named `name` nearest `node` (itself, then up). */
    receiver(node: TreeNode, name: string): { row: EntryRow<AlertReceiverInput>; node: TreeNode } | undefined {
      for (const n of [node, ...tree.ancestors(node.id).reverse()]) {
        const row = receivers.get(n.id)?.get(name);
        if (row) return { row, node: n };
      }
      return undefined;
    },
    silences: () => [...silences.values()],
    /** The silence muting an alert of `rule` on `machine` (bound via `node`) with `labels` at `nowMs`, if any. */
    silencing(node: TreeNode, rule: string, machine: string, labels: Record<string, string>, nowMs: number): SilenceRow | undefined {
      const line = new Set([node.id, ...tree.ancestors(node.id).map((n) => n.id)]);
      for (const s of silences.values()) {
        if (!line.has(s.nodeId) || Date.parse(s.startsAt) > nowMs || Date.parse(s.endsAt) <= nowMs) continue;
        if ((s.rule !== null && s.rule !== rule) || (s.machine !== null && s.machine !== machine)) continue;
        if (labelsMatch(labels, s.match)) return s;
      }
      return undefined;
    },
    live: () => [...live.values()],
    liveByKey: (key: string) => liveByKey.get(key),
    liveById: (id: number) => live.get(id),
  };
}
