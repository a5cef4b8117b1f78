/**
 * Alerting's domain: rules and receivers on nodes, silences, acknowledgement, and the views the
 * API, CLI and console read (effective rules with their origin, live alerts, history per node).
 */
import { AlertRuleInput, ConflictError, NotFoundError, ValidationError, type AlertReceiverInput, type AlertRuleSpec, type AlertView, type SilenceInput } from '@canopy/core';
import type { Actor, ChangeFeed, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import { iso, type TreeNode, type TreeService } from '../tree/index.ts';
import type { MachineService } from '../machines/index.ts';
import { ALERT_CONFIG_TOPIC, ALERT_SILENCE_TOPIC, ALERT_TOPIC, createAlertModel, toIso, type ConfigChange } from './model.ts';
import * as repo from './repo.ts';

export type AlertService = ReturnType<typeof createAlertService>;

const ts = (v: string | null) => (v === null ? null : toIso(v));

/** Build the alert service; `load()` then the evaluator's `start()`. */
export function createAlertService(deps: { writer: Writer; feed: ChangeFeed; db: Queryable; tree: TreeService; machines: MachineService; now?: () => number }) {
  const { writer, feed, db, tree } = deps;
  const now = deps.now ?? Date.now;
  const model = createAlertModel(tree.model);
  feed.on(ALERT_CONFIG_TOPIC, (c) => model.applyConfig(c.payload as ConfigChange));
  feed.on(ALERT_SILENCE_TOPIC, (c) => model.applySilence((c.payload as { row: repo.SilenceRow }).row));
  feed.on(ALERT_TOPIC, (c) => model.applyAlerts((c.payload as { rows: repo.AlertRow[] }).rows));

  const pathOf = (id: number) => tree.model.get(id)?.path ?? `#${id}`;

  function view(a: repo.AlertRow): AlertView {
    const node = tree.model.get(a.nodeId);
    const silenced = a.state !== 'resolved' && node !== undefined && model.silencing(node, a.rule, a.machine, a.labels, now()) !== undefined;
    return {
      id: a.id, rule: a.rule, origin: pathOf(a.originNodeId), node: pathOf(a.nodeId), machine: a.machine, labels: a.labels,
      severity: a.severity as AlertView['severity'], state: a.state, value: a.value, summary: a.summary, source: a.source,
      startedAt: toIso(a.startedAt), firedAt: ts(a.firedAt), resolvedAt: ts(a.resolvedAt), ackedBy: a.ackedBy, ackedAt: ts(a.ackedAt),
      silenced, notifications: a.notifications,
    };
  }

  function within(node: TreeNode): Set<number> {
    return new Set(tree.model.subtreeIds(node.id));
  }

  function receiverView(r: repo.EntryRow<AlertReceiverInput>, node: string) {
    const { secret, ...spec } = r.spec;
    return { name: r.name, node, ...spec, hasSecret: secret !== undefined, updatedBy: r.updatedBy, updatedAt: iso(r.updatedAt) };
  }

  async function putEntry(actor: Actor, kind: 'rule' | 'receiver', path: string, name: string, spec: AlertRuleSpec | AlertReceiverInput) {
    const table = kind === 'rule' ? 'alert_rules' : 'alert_receivers';
    return writer.run(actor, async (w) => {
      const node = tree.node(path);
      if (kind === 'rule' && (spec as AlertRuleSpec).disabled && !model.effective(node).some((e) => e.name === name && e.rule.nodeId !== node.id)) {
        throw new ValidationError('nothing to disable', [{ path: ['disabled'], message: `no rule named ${name} is inherited by ${node.path}` }]);
      }
      const before = await repo.entryOf<typeof spec>(w.tx, table, node.id, name);
      const row = await repo.putEntry(w.tx, table, node.id, name, spec, actor.name);
      const redact = (s: typeof spec | undefined) => (s && 'secret' in s && s.secret !== undefined ? { ...s, secret: '(redacted)' } : s ?? null);
      w.audit({ operation: `alert.${kind}.set`, targetKind: `alert_${kind}`, target: `${node.path}/${name}`, nodeId: node.id, nodePath: node.path, before: redact(before?.spec), after: redact(spec) });
      w.emit(ALERT_CONFIG_TOPIC, { kind, nodeId: node.id, name, row } satisfies ConfigChange);
      return row;
    });
  }

  async function removeEntry(actor: Actor, kind: 'rule' | 'receiver', path: string, name: string): Promise<void> {
    const table = kind === 'rule' ? 'alert_rules' : 'alert_receivers';
    await writer.run(actor, async (w) => {
      const node = tree.node(path);
      const before = await repo.entryOf<unknown>(w.tx, table, node.id, name);
      if (!before || !(await repo.deleteEntry(w.tx, table, node.id, name))) throw new NotFoundError(`alert ${kind}`, `${node.path}/${name}`);
      w.audit({ operation: `alert.${kind}.delete`, targetKind: `alert_${kind}`, target: `${node.path}/${name}`, nodeId: node.id, nodePath: node.path });
      w.emit(ALERT_CONFIG_TOPIC, { kind, nodeId: node.id, name, row: null } satisfies ConfigChange);
    });
  }

  return {
    model,
    view,
    async load(): Promise<void> {
      model.load(
        await repo.allEntries<AlertRuleSpec>(db, 'alert_rules'),
        await repo.allEntries<AlertReceiverInput>(db, 'alert_receivers'),
        await repo.currentSilences(db),
        await repo.liveAlerts(db),
      );
    },

    /** The node's own entries and the rules in force on it, each with where it is set and what it overrides. */
    rules(node: TreeNode) {
      return {
        node: node.path,
        own: model.ownRules(node.id).map((r) => ({ name: r.name, origin: node.path, ...r.spec, updatedBy: r.updatedBy, updatedAt: r.updatedAt })),
        effective: model.effective(node).map((e) => ({ name: e.name, origin: e.rule.nodePath, inherited: e.rule.nodeId !== node.id, overrides: e.overrides, ...e.rule.spec })),
      };
    },
    setRule: (actor: Actor, path: string, name: string, input: unknown) => putEntry(actor, 'rule', path, name, AlertRuleInput.parse(input)),
    removeRule: (actor: Actor, path: string, name: string) => removeEntry(actor, 'rule', path, name),

    /** The node's own receivers and those it may use from above (secrets never shown). */
    receivers(node: TreeNode) {
      const line = [...tree.model.ancestors(node.id), node];
      const seen = new Map<string, ReturnType<typeof receiverView>>();
      for (const n of line) for (const r of model.ownReceivers(n.id)) seen.set(r.name, receiverView(r, n.path));
      return { node: node.path, own: model.ownReceivers(node.id).map((r) => receiverView(r, node.path)), effective: [...seen.values()] };
    },
    setReceiver: (actor: Actor, path: string, name: string, spec: AlertReceiverInput) => putEntry(actor, 'receiver', path, name, spec),
    removeReceiver: (actor: Actor, path: string, name: string) => removeEntry(actor, 'receiver', path, name),

    /** Live alerts of machines bound within the subtree. */
    active(node: TreeNode): AlertView[] {
      const ids = within(node);
      return model.live().filter((a) => ids.has(a.nodeId)).map(view).sort((a, b) => b.id - a.id);
    },
    async history(node: TreeNode, limit: number, cursor: number | undefined) {
      const rows = await repo.alertHistory(db, [...within(node)], limit + 1, cursor);
      const items = rows.slice(0, limit).map(view);
      return { items, nextCursor: rows.length > limit ? String(items.at(-1)!.id) : null };
    },
    async alert(id: number) {
      const row = model.liveById(id) ?? (await repo.alertById(db, id));
      if (!row) throw new NotFoundError('alert', String(id));
      return row;
    },
    /** Acknowledge a live alert: no more repeats or escalation. */
    ack: (actor: Actor, id: number, comment: string) =>
      writer.run(actor, async (w) => {
        const a = await repo.alertById(w.tx, id, true);
        if (!a) throw new NotFoundError('alert', String(id));
        if (a.state === 'resolved') throw new ConflictError(`alert ${id} is resolved`, { id });
        if (a.ackedBy !== null) return view(a);
        const row = (await repo.updateAlert(w.tx, id, { ackedBy: actor.name, ackedAt: new Date(now()).toISOString() }))!;
        w.audit({ operation: 'alert.ack', targetKind: 'alert', target: String(id), nodeId: a.nodeId, nodePath: pathOf(a.nodeId), after: { comment } });
        w.emit(ALERT_TOPIC, { rows: [row] });
        return view(row);
      }),

    silences(node: TreeNode) {
      const ids = within(node);
      const line = new Set([node.id, ...tree.model.ancestors(node.id).map((n) => n.id)]);
      return model.silences().filter((s) => (ids.has(s.nodeId) || line.has(s.nodeId)) && Date.parse(iso(s.endsAt)) > now()).map((s) => silenceView(s));
    },
    silence: (actor: Actor, input: SilenceInput) =>
      writer.run(actor, async (w) => {
        const node = tree.node(input.node);
        const startsAt = input.startsAt ?? new Date(now()).toISOString();
        if (Date.parse(input.endsAt) <= Math.max(now(), Date.parse(startsAt))) throw new ValidationError('silence is over before it starts', [{ path: ['endsAt'], message: 'must be in the future' }]);
        const row = await repo.insertSilence(w.tx, { nodeId: node.id, rule: input.rule ?? null, machine: input.machine ?? null, match: input.match ?? {}, startsAt, endsAt: input.endsAt, comment: input.comment, createdBy: actor.name });
        const v = silenceView(row);
        w.audit({ operation: 'alert.silence.create', targetKind: 'alert_silence', target: String(row.id), nodeId: node.id, nodePath: node.path, after: v });
        w.emit(ALERT_SILENCE_TOPIC, { row });
        return v;
      }),
    silenceById: (id: number) => repo.silenceById(db, id),
    expireSilence: (actor: Actor, id: number) =>
      writer.run(actor, async (w) => {
        const row = await repo.expireSilence(w.tx, id);
        if (!row) throw new NotFoundError('silence', String(id));
        const after = (await repo.silenceById(w.tx, id))!;
        w.audit({ operation: 'alert.silence.expire', targetKind: 'alert_silence', target: String(id), nodeId: row.nodeId, nodePath: pathOf(row.nodeId) });
        w.emit(ALERT_SILENCE_TOPIC, { row: after });
      }),
  };

  function silenceView(s: repo.SilenceRow) {
    return { id: s.id, node: pathOf(s.nodeId), rule: s.rule, machine: s.machine, match: s.match, startsAt: toIso(s.startsAt), endsAt: toIso(s.endsAt), comment: s.comment, createdBy: s.createdBy, createdAt: toIso(s.createdAt) };
  }
}
