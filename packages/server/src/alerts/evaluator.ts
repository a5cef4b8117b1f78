/**
 * The evaluator: on every ingest batch (and a periodic tick, for nodata, for-durations, repeats and
 * escalation) it judges the rules of the machines concerned and records what changed in one write.
 * Only the replica holding a PostgreSQL session advisory lock evaluates, so a notice goes out once
 * (read-only checks keep it: no table churns); when its connection goes (a crash, a reaped
 * connection) the lock goes with it and another replica takes over, picking the live alerts up
 * from the database. Services sharing one Database in a process (tests) share one lock by hand-over. Machine down comes from the agents'
 * heartbeats (the dispatcher's `agent.status`), offered to rules as the series `canopy_agent_up`;
 * nodata is not judged on a machine whose agent is down (its own alert says so). Other capabilities
 * offer synthetic series the same way (`builtin`: automatic ejection, SLO burn rates).
 */
import { randomUUID } from 'node:crypto';
import { AGENT_UP_METRIC, alertStep, labelsMatch, dueNotice, evaluateConditions, inWindow, lookbackMs, recoveryDue, type AlertLife, type AlertRuleSpec, type SeriesPoints } from '@canopy/core';
import { AGENT_STATUS_TOPIC } from '../agents/index.ts';
import type { Actor, ChangeFeed, Writer } from '../changes/index.ts';
import type { Database } from '../db/connection.ts';
import type { MachineService } from '../machines/index.ts';
import type { MetricSource } from '../monitor/index.ts';
import type { TreeModel } from '../tree/index.ts';
import { ALERT_TOPIC, type AlertModel } from './model.ts';
import type { Notifier, NoticeItem } from './notifier.ts';
import * as repo from './repo.ts';

const EVALUATOR: Actor = Object.freeze({ kind: 'system', id: null, name: 'alert-evaluator', superuser: true });

export interface EvaluatorOptions {
  /** Full evaluation period; default 5 s. */
  tickMs?: number | undefined;
  /** How often a replica checks it still holds (or may take) the evaluator's lock; default 5 s. */
  leaseCheckMs?: number | undefined;
}

interface Live {
  life: AlertLife;
  spec: AlertRuleSpec;
  rule: string;
  originId: number;
  viaId: number;
  machineId: number;
  machine: string;
  labels: Record<string, string>;
  value: number | null;
  /** Set for alerts Alertmanager delivered: their repeats and escalation are still Canopy's. */
  source?: 'prometheus';
}

type Change = { kind: 'insert'; key: string; l: Live } | { kind: 'update'; key: string; l: Live; patch: Parameters<typeof repo.updateAlert>[2]; notice?: NoticeItem['kind'] };

/** A synthetic metric's series on one machine now, or undefined when `metric` is not one. */
export type BuiltinSeries = (metric: string, machineId: number) => { labels: Record<string, string>; value: number }[] | undefined;

export type Evaluator = ReturnType<typeof createEvaluator>;

/** Per Database in this process: which evaluator holds its lock (null: free to hand over) and the session holding it. */
const held = new WeakMap<Database, { owner: string | null; pid: number | null }>();

/** Build the evaluator; `start()` follows ingests and competes for the lease. */
export function createEvaluator(
  deps: { writer: Writer; feed: ChangeFeed; database: Database; model: AlertModel; tree: TreeModel; machines: MachineService; source: MetricSource; notifier: Notifier; now: () => number; onError: (err: unknown) => void; builtin?: BuiltinSeries | undefined },
  opts: EvaluatorOptions = {},
) {
  const { model, now } = deps;
  const holder = randomUUID();
  const lives = new Map<string, Live>();
  const agentUp = new Map<number, boolean>();
  let leader = false;
  let state: 'idle' | 'running' | 'stopped' = 'idle';
  let chain: Promise<void> = Promise.resolve();
  const pendingIds = new Set<number>();
  let all = false;
  let scheduled = false;
  const timers: NodeJS.Timeout[] = [];
  let unsubscribe: (() => void) | undefined;

  deps.feed.on(AGENT_STATUS_TOPIC, (c) => {
    const p = c.payload as { machineIds?: unknown; state?: unknown };
    if (!Array.isArray(p.machineIds)) return;
    for (const id of p.machineIds) if (typeof id === 'number') agentUp.set(id, p.state === 'connected');
    request(p.machineIds.filter((id): id is number => typeof id === 'number'));
  });

  function seriesFor(machineId: number, metric: string, match: Record<string, string> | undefined, fromMs: number, toMs: number): SeriesPoints[] {
    if (metric === AGENT_UP_METRIC) {
      const up = agentUp.get(machineId);
      return up === undefined ? [] : [{ labels: {}, points: [[toMs, up ? 1 : 0]] }];
    }
    const synthetic = deps.builtin?.(metric, machineId);
    if (synthetic) {
      return synthetic.filter((x) => labelsMatch(x.labels, match)).map((x) => ({ labels: x.labels, points: [[toMs, x.value]] }));
    }
    return deps.source.samples({ machineIds: [machineId], metric, ...(match ? { match } : {}), fromMs, toMs }).map((s) => ({ labels: s.labels, points: s.points }));
  }

  function judgeMachine(machineId: number, t: number, out: Map<string, { holds: boolean; value: number | null; l: Omit<Live, 'life' | 'value'> }>): void {
    const m = deps.machines.model.get(machineId);
    if (!m || m.status === 'retired') return;
    for (const { via, rule } of model.forMachine(m.nodeIds)) {
      const spec = rule.rule.spec;
      if (!inWindow(spec.activeWindow, t)) continue;
      if (agentUp.get(m.id) === false && spec.conditions.some((c) => c.fn.startsWith('nodata'))) continue;
      const from = t - lookbackMs(spec.conditions);
      const series = spec.conditions.map((c) => seriesFor(m.id, c.metric, c.match, from, t));
      const viaNode = deps.tree.byPath(via);
      if (!viaNode) continue;
      for (const v of evaluateConditions(spec.conditions, series, t)) {
        out.set(`${rule.name}|${m.id}|${v.key}`, { holds: v.holds, value: v.value, l: { spec, rule: rule.name, originId: rule.rule.nodeId, viaId: viaNode.id, machineId: m.id, machine: m.hostname, labels: v.labels } });
      }
    }
  }

  /** The changes of one pass over `machineIds` (undefined: every machine). */
  function pass(machineIds: number[] | undefined, t: number): Change[] {
    const ids = machineIds ?? [...new Set([...deps.machines.model.query({}, Number.MAX_SAFE_INTEGER, undefined).ids])];
    const scope = new Set(ids);
    const verdicts = new Map<string, { holds: boolean; value: number | null; l: Omit<Live, 'life' | 'value'> }>();
    for (const id of ids) judgeMachine(id, t, verdicts);
    const changes: Change[] = [];
    const keys = new Set([...verdicts.keys(), ...[...lives.entries()].filter(([, l]) => scope.has(l.machineId)).map(([k]) => k)]);
    for (const key of keys) {
      const v = verdicts.get(key);
      const prev = lives.get(key);
      const spec = v?.l.spec ?? prev!.spec;
      const { life, transition } = alertStep(prev?.life, v?.holds ?? false, t, spec);
      const l: Live | undefined = life && { ...(v?.l ?? prev!), spec, life, value: v?.value ?? prev?.value ?? null };
      if (l) lives.set(key, l);
      else lives.delete(key);
      if (transition === 'pending' || (transition === 'fired' && !prev)) changes.push({ kind: 'insert', key, l: l! });
      else if (transition === 'fired') {
        const row = model.liveByKey(key);
        const tell = row !== undefined && dueNotice(t, toldOf(row, l!, t), t, spec) === 'firing';
        const patch = { state: 'firing' as const, firedAt: new Date(t).toISOString(), value: l!.value, ...(tell ? { notifications: row.notifications + 1, lastNotifiedAt: new Date(t).toISOString() } : {}) };
        changes.push({ kind: 'update', key, l: l!, patch, ...(tell ? { notice: 'firing' as const } : {}) });
      }
      else if (transition === 'resolved' || transition === 'cleared') {
        const row = model.liveByKey(key);
        const told = row ? toldOf(row, prev!, t) : undefined;
        const tell = transition === 'resolved' && told !== undefined && recoveryDue(told, prev!.spec);
        changes.push({ kind: 'update', key, l: prev!, patch: { state: 'resolved', resolvedAt: new Date(t).toISOString() }, ...(tell ? { notice: 'resolved' as const } : {}) });
      } else if (l && l.life.phase !== 'pending') {
        const row = model.liveByKey(key);
        if (!row) continue;
        const due = dueNotice(l.life.firedMs ?? t, toldOf(row, l, t), t, l.spec);
        if (due === 'escalation') changes.push({ kind: 'update', key, l, patch: { escalated: true }, notice: due });
        else if (due) changes.push({ kind: 'update', key, l, patch: { notifications: row.notifications + 1, lastNotifiedAt: new Date(t).toISOString() }, notice: due });
      }
    }
    if (machineIds === undefined) changes.push(...prometheusDue(t));
    return changes;
  }

  /** Repeats and escalation of the firing alerts Alertmanager delivered, by the rule set at their origin. */
  function prometheusDue(t: number): Change[] {
    const out: Change[] = [];
    for (const row of model.live()) {
      if (row.source !== 'prometheus' || row.state !== 'firing') continue;
      const spec = model.ownRules(row.originNodeId).find((r) => r.name === row.rule)?.spec;
      if (!spec || spec.disabled) continue;
      const firedMs = Date.parse(row.firedAt ?? row.startedAt);
      const l: Live = { life: { phase: 'firing', startedMs: Date.parse(row.startedAt), firedMs }, spec, rule: row.rule, originId: row.originNodeId, viaId: row.nodeId, machineId: row.machineId ?? 0, machine: row.machine, labels: row.labels, value: row.value, source: 'prometheus' };
      const due = dueNotice(firedMs, toldOf(row, l, t), t, spec);
      if (due === 'escalation') out.push({ kind: 'update', key: row.key, l, patch: { escalated: true }, notice: due });
      else if (due) out.push({ kind: 'update', key: row.key, l, patch: { notifications: row.notifications + 1, lastNotifiedAt: new Date(t).toISOString() }, notice: due });
    }
    return out;
  }

  function toldOf(row: repo.AlertRow, l: Live, t: number) {
    const via = deps.tree.get(l.viaId);
    return {
      count: row.notifications,
      lastMs: row.lastNotifiedAt === null ? null : Date.parse(row.lastNotifiedAt),
      escalated: row.escalated,
      acked: row.ackedBy !== null,
      silenced: via !== undefined && model.silencing(via, l.rule, l.machine, l.labels, t) !== undefined,
    };
  }

  async function commit(changes: Change[], t: number): Promise<void> {
    if (changes.length === 0) return;
    const notices: NoticeItem[] = [];
    await deps.writer.run(EVALUATOR, async (w) => {
      const rows: repo.AlertRow[] = [];
      for (const c of changes) {
        let row: repo.AlertRow | undefined;
        let notice = c.kind === 'update' ? c.notice : undefined;
        if (c.kind === 'insert') {
          const firing = c.l.life.phase === 'firing';
          row = await repo.insertAlert(w.tx, {
            key: c.key, rule: c.l.rule, originNodeId: c.l.originId, nodeId: c.l.viaId, machineId: c.l.machineId, machine: c.l.machine, labels: c.l.labels,
            severity: c.l.spec.severity, state: firing ? 'firing' : 'pending', value: c.l.value, summary: c.l.spec.summary || c.l.spec.description, source: 'canopy',
            startedAt: new Date(c.l.life.startedMs).toISOString(), firedAt: firing ? new Date(t).toISOString() : null,
          });
          const via = deps.tree.get(c.l.viaId);
          if (firing && !(via && model.silencing(via, c.l.rule, c.l.machine, c.l.labels, t))) {
            row = await repo.updateAlert(w.tx, row.id, { notifications: 1, lastNotifiedAt: new Date(t).toISOString() });
            notice = 'firing';
          }
        } else {
          const live = model.liveByKey(c.key);
          if (!live) continue;
          row = await repo.updateAlert(w.tx, live.id, c.patch);
        }
        if (!row) continue;
        rows.push(row);
        if (notice) notices.push(noticeOf(notice, c.l, row));
      }
      if (rows.length > 0) w.emit(ALERT_TOPIC, { rows });
    });
    for (const n of notices) deps.notifier.enqueue(n);
  }

  function noticeOf(kind: NoticeItem['kind'], l: Live, row: repo.AlertRow): NoticeItem {
    const receivers = kind === 'escalation' ? (l.spec.escalation?.receivers ?? []) : l.spec.receivers;
    return { kind, rule: l.rule, severity: l.spec.severity, viaNodeId: l.viaId, origin: deps.tree.get(l.originId)?.path ?? '', summary: l.spec.summary || l.spec.description, receivers, source: l.source ?? 'canopy', alert: { id: row.id, machine: l.machine, labels: l.labels, value: l.value, startedAt: new Date(l.life.startedMs).toISOString() } };
  }

  function request(machineIds: number[] | undefined): void {
    if (!leader || state !== 'running') return;
    if (machineIds === undefined) all = true;
    else for (const id of machineIds) pendingIds.add(id);
    if (scheduled) return;
    scheduled = true;
    chain = chain.then(async () => {
      scheduled = false;
      const ids = all ? undefined : [...pendingIds];
      all = false;
      pendingIds.clear();
      const t = now();
      await commit(pass(ids, t), t);
    }).catch(deps.onError);
  }

  async function holdsLock(): Promise<boolean> {
    const h = held.get(deps.database);
    if (h && h.owner !== null && h.owner !== holder) return false;
    if (h && (h.pid === null || (await repo.holdsEvaluatorLock(deps.database.db, h.pid)))) {
      h.owner = holder;
      return true;
    }
    held.delete(deps.database);
    // PGlite is one session in one process: the map alone decides.
    if (deps.database.kind === 'pglite') {
      held.set(deps.database, { owner: holder, pid: null });
      return true;
    }
    const pid = await repo.tryEvaluatorLock(deps.database.db);
    if (pid === undefined) return false;
    held.set(deps.database, { owner: holder, pid });
    return true;
  }

  async function contend(): Promise<void> {
    if (state !== 'running') return;
    const mine = await holdsLock();
    if (mine && !leader) {
      leader = true;
      lives.clear();
      for (const a of model.live()) {
        if (a.source !== 'canopy' || a.machineId === null) continue;
        const rule = model.ownRules(a.originNodeId).find((r) => r.name === a.rule);
        if (!rule || rule.spec.disabled) continue;
        const life: AlertLife = a.state === 'firing' ? { phase: 'firing', startedMs: Date.parse(a.startedAt), firedMs: Date.parse(a.firedAt ?? a.startedAt) } : { phase: 'pending', startedMs: Date.parse(a.startedAt) };
        lives.set(a.key, { life, spec: rule.spec, rule: a.rule, originId: a.originNodeId, viaId: a.nodeId, machineId: a.machineId, machine: a.machine, labels: a.labels, value: a.value });
      }
      request(undefined);
    } else if (!mine) leader = false;
  }

  return {
    isLeader: () => leader,
    /** Evaluate now (every machine, or these) and resolve once written. */
    async evaluate(machineIds?: number[]): Promise<void> {
      request(machineIds);
      await chain;
    },
    async start(): Promise<void> {
      state = 'running';
      for (const a of await repo.agentStates(deps.database.db)) agentUp.set(a.machineId, a.state === 'connected');
      unsubscribe = deps.source.onIngest((ids) => request(ids));
      await contend().catch(deps.onError);
      timers.push(setInterval(() => void contend().catch(deps.onError), opts.leaseCheckMs ?? 5000));
      timers.push(setInterval(() => request(undefined), opts.tickMs ?? 5000));
    },
    async stop(): Promise<void> {
      state = 'stopped';
      for (const t of timers) clearInterval(t);
      unsubscribe?.();
      await chain;
      // Hand the lock over to another evaluator of this Database; the session keeps it until the pool closes.
      const h = held.get(deps.database);
      if (h?.owner === holder) h.owner = null;
      leader = false;
      timers.length = 0;
    },
  };
}
