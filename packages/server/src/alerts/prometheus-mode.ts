/**
 * Prometheus mode: the rules exported as a Prometheus rule file, and Alertmanager's webhook taken in
 * as Canopy alerts (source `prometheus`) — stored, silenced, acknowledged, grouped and notified the
 * same way as the ones Canopy judges itself, so an operator sees one kind of alert in both modes.
 */
import { z } from 'zod';
import { prometheusRuleFile, safeText, type AlertRuleSpec, type ExportRule } from '@canopy/core';
import type { Actor, Writer } from '../changes/index.ts';
import type { MachineService } from '../machines/index.ts';
import type { TreeModel, TreeNode } from '../tree/index.ts';
import { ALERT_TOPIC, type AlertModel } from './model.ts';
import type { NoticeItem, Notifier } from './notifier.ts';
import * as repo from './repo.ts';

/** The rules judging machines under `node`: those in force on it, and those set beneath it. */
export function exportRules(model: AlertModel, tree: TreeModel, node: TreeNode): ExportRule[] {
  const subtree = tree.subtreeIds(node.id).map((id) => tree.get(id)).filter((n): n is TreeNode => n !== undefined);
  const below = (scope: TreeNode, name: string) =>
    subtree.filter((d) => d.path.startsWith(`${scope.path}.`) && model.ownRules(d.id).some((r) => r.name === name)).map((d) => d.path).sort();
  const out: ExportRule[] = [];
  for (const e of model.effective(node)) {
    if (!e.rule.spec.disabled) out.push({ name: e.name, origin: e.rule.nodePath, scope: node.path, spec: e.rule.spec, excluded: below(node, e.name) });
  }
  for (const d of subtree) {
    if (d.id === node.id) continue;
    for (const r of model.ownRules(d.id)) if (!r.spec.disabled) out.push({ name: r.name, origin: d.path, scope: d.path, spec: r.spec, excluded: below(d, r.name) });
  }
  return out.sort((a, b) => (a.scope === b.scope ? (a.name < b.name ? -1 : 1) : a.scope < b.scope ? -1 : 1));
}

/** The rule file for `node`. */
export function ruleFile(model: AlertModel, tree: TreeModel, node: TreeNode, stepSeconds = 10): string {
  return prometheusRuleFile(exportRules(model, tree, node), stepSeconds);
}

/** Alertmanager's webhook payload (version 4); unknown fields kept out. */
export const AlertmanagerPayload = z.object({
  version: z.string().max(16).optional(),
  status: z.enum(['firing', 'resolved']),
  alerts: z
    .array(
      z.object({
        status: z.enum(['firing', 'resolved']),
        labels: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,99}$/), safeText({ max: 1024 })),
        annotations: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,99}$/), safeText({ max: 4096, multiline: true })).default({}),
        startsAt: z.string().max(64),
        endsAt: z.string().max(64).optional(),
        fingerprint: z.string().max(64).optional(),
      }),
    )
    .max(10_000),
});
export type AlertmanagerPayload = z.infer<typeof AlertmanagerPayload>;

/** Where a Prometheus alert belongs, checked by the caller (authorisation) before anything is written. */
export interface PromTarget {
  alert: AlertmanagerPayload['alerts'][number];
  origin: TreeNode;
}

/** Take Alertmanager's alerts in: new firing ones start (and notify), resolved ones end (and notify recovery). */
export async function ingestAlertmanager(
  deps: { writer: Writer; model: AlertModel; tree: TreeModel; machines: MachineService; notifier: Notifier; now: () => number },
  actor: Actor,
  targets: PromTarget[],
): Promise<{ started: number; resolved: number }> {
  const { model, tree } = deps;
  const notices: NoticeItem[] = [];
  const result = await deps.writer.run(actor, async (w) => {
    const rows: repo.AlertRow[] = [];
    let started = 0;
    let resolved = 0;
    // Alertmanager may name one alert twice in a payload; the model is not updated until commit.
    const written = new Map<string, repo.AlertRow>();
    for (const { alert: a, origin } of targets) {
      const rule = a.labels['canopy_rule'] ?? a.labels['alertname'] ?? 'prometheus';
      const host = a.labels['hostname'] ?? (a.labels['instance'] ?? '').replace(/:\d+$/, '');
      const key = `prom|${a.fingerprint ?? JSON.stringify(Object.entries(a.labels).sort())}`;
      const m = deps.machines.model.byHostname(host);
      const bound = (m?.nodeIds ?? []).map((id) => tree.get(id)).filter((n): n is TreeNode => n !== undefined && (n.id === origin.id || n.path.startsWith(`${origin.path}.`)));
      const via = bound.sort((x, y) => (x.path < y.path ? -1 : 1))[0] ?? origin;
      const spec: AlertRuleSpec | undefined = model.ownRules(origin.id).find((r) => r.name === rule)?.spec;
      const mine = written.get(key);
      const live = mine ? (mine.state === 'resolved' ? undefined : mine) : model.liveByKey(key);
      const t = deps.now();
      const labels = Object.fromEntries(Object.entries(a.labels).filter(([k]) => !k.startsWith('canopy_') && !['alertname', 'severity', 'instance', 'hostname', 'job'].includes(k)));
      const item = (kind: NoticeItem['kind'], row: repo.AlertRow): NoticeItem => ({
        kind, rule, severity: row.severity, viaNodeId: via.id, origin: origin.path, summary: row.summary, receivers: spec?.receivers ?? [], source: 'prometheus',
        alert: { id: row.id, machine: row.machine, labels, value: null, startedAt: new Date(Date.parse(a.startsAt) || t).toISOString() },
      });
      if (a.status === 'firing' && !live) {
        let row = await repo.insertAlert(w.tx, {
          key, rule, originNodeId: origin.id, nodeId: via.id, machineId: m?.id ?? null, machine: host || '(none)', labels,
          severity: ['critical', 'warning', 'info'].includes(a.labels['severity'] ?? '') ? a.labels['severity']! : 'warning',
          state: 'firing', value: null, summary: a.annotations['summary'] ?? '', source: 'prometheus',
          startedAt: new Date(Date.parse(a.startsAt) || t).toISOString(), firedAt: new Date(t).toISOString(),
        });
        if (!model.silencing(via, rule, row.machine, labels, t)) {
          row = (await repo.updateAlert(w.tx, row.id, { notifications: 1, lastNotifiedAt: new Date(t).toISOString() }))!;
          notices.push(item('firing', row));
        }
        rows.push(row);
        written.set(key, row);
        started++;
      } else if (a.status === 'resolved' && live) {
        const row = (await repo.updateAlert(w.tx, live.id, { state: 'resolved', resolvedAt: new Date(t).toISOString() }))!;
        if (live.notifications > 0 && (spec?.notifyRecovery ?? true) && !model.silencing(via, rule, row.machine, labels, t)) notices.push(item('resolved', row));
        rows.push(row);
        written.set(key, row);
        resolved++;
      }
    }
    if (rows.length > 0) w.emit(ALERT_TOPIC, { rows });
    return { started, resolved };
  });
  for (const n of notices) deps.notifier.enqueue(n);
  return result;
}
