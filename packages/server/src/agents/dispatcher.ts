/**
 * The dispatcher: one session per connected agent on this replica. On hello it sends the machine's
 * unfinished tasks (the whole set), then changes to them as orchestrators on any replica write them
 * (the `task` topic of the change feed). Reports from all sessions are gathered and written in one
 * transaction once they pause for 10 ms (at most 50 ms after the first), then acknowledged; a task
 * that reached its end is taken off the agent's set. Heartbeats stay in memory and are written in
 * bulk once a period; any replica marks an agent silent for three periods unreachable, and orphans
 * its unfinished tasks after a grace.
 */
import { randomUUID } from 'node:crypto';
import { AgentMessage, AGENT_PROTOCOL, isTerminal, TaskState, type ControlMessage, type TaskReport, type TaskStateValue } from '@canopy/core';
import { SYSTEM_ACTOR, type ChangeFeed, type WriteContext, type Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import { MACHINE_TOPIC, type MachineService } from '../machines/index.ts';
import { createChannel, type ChannelSession } from './channel.ts';
import * as repo from './tasks-repo.ts';

export const TASK_TOPIC = 'task';
export const TASK_STATUS_TOPIC = 'task.status';
export const AGENT_STATUS_TOPIC = 'agent.status';

/**
 * Reports are written once none came for REPORT_QUIET_MS, and at the latest REPORT_MAX_WAIT_MS
 * after the first one waiting: a burst (a batch of hosts answering together) is one write soon after
 * it ends, and a steady stream (thousands of agents) one write per REPORT_MAX_WAIT_MS.
 */
const REPORT_QUIET_MS = 10;
const REPORT_MAX_WAIT_MS = 50;
/** A heartbeat as the agent sends it (`JSON.stringify({ t: 'heartbeat' })`). */
const HEARTBEAT = '{"t":"heartbeat"}';

/** The socket of one session, as the route hands it over (a `ws` WebSocket). */
export interface SessionSocket {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'message', fn: (data: Buffer | string) => void): void;
  on(event: 'close', fn: () => void): void;
}

interface Session extends ChannelSession {
  id: string;
  secretHash: string;
  socket: SessionSocket;
  lastBeat: number;
  beaten: boolean;
  /** Task id → desired state, as last sent. */
  assigned: Map<string, TaskStateValue>;
}

export interface DispatcherOptions {
  /** Heartbeat period the agents are told; default 5000 ms. */
  heartbeatMs?: number | undefined;
  /** Seconds an unreachable agent's unfinished tasks wait before they are ORPHANED; default 60. */
  orphanGraceSeconds?: number | undefined;
  /** The same for a reboot task, whose agent is expected to be away while the machine boots; default 900. */
  rebootGraceSeconds?: number | undefined;
  onError?: ((err: unknown) => void) | undefined;
}

/** A task to create: orchestrators pass these inside their own write. */
export interface NewTask {
  machineId: number;
  kind: string;
  spec: unknown;
  desired?: TaskStateValue;
  ownerKind?: string | null;
  ownerId?: number | null;
}

export type Dispatcher = ReturnType<typeof createDispatcher>;

/** Build the dispatcher; `start()` begins its timers. */
export function createDispatcher(deps: { writer: Writer; feed: ChangeFeed; db: Queryable; machines: MachineService }, opts: DispatcherOptions = {}) {
  const { writer, feed, db, machines } = deps;
  const heartbeatMs = opts.heartbeatMs ?? 5000;
  const orphanGrace = opts.orphanGraceSeconds ?? 60;
  const rebootGrace = opts.rebootGraceSeconds ?? 900;
  const onError = opts.onError ?? (() => {});
  const replica = randomUUID();
  const sessions = new Map<number, Session>();
  let pending: { session: Session; seq: number; reports: TaskReport[] }[] = [];
  let flushing: Promise<void> | null = null;
  let flushTimer: NodeJS.Timeout | undefined;
  let firstPendingAt = 0;
  let hellos: { s: Session; msg: Extract<AgentMessage, { t: 'hello' }> }[] = [];
  let helloTimer: NodeJS.Timeout | undefined;
  let greeting: Promise<void> | null = null;
  let sweeping: Promise<void> | null = null;
  // Task rows this replica just wrote, by id: pushing them once their write commits needs no read
  // back (10,000 assignments of one job are one query less). Taken by the feed handler; a write
  // rolled back leaves its rows here, so the map starts over past a bound.
  const written = new Map<string, repo.TaskRow>();
  const remember = (list: repo.TaskRow[]) => {
    if (written.size > 100_000) written.clear();
    for (const t of list) written.set(t.id, t);
  };
  const timers: NodeJS.Timeout[] = [];

  const send = (s: Session, msg: ControlMessage) => {
    try {
      s.socket.send(JSON.stringify(msg));
    } catch {
      // Closing; the close handler cleans up.
    }
  };

  function end(s: Session, reason: string): void {
    send(s, { t: 'close', reason });
    s.socket.close(4001, reason.slice(0, 120));
    drop(s);
  }

  function drop(s: Session): void {
    if (sessions.get(s.machineId) === s) sessions.delete(s.machineId);
    channel.dropped(s);
  }

  const channel = createChannel({ sessions, send, onError });

  // Desired state written anywhere reaches the sessions held here.
  feed.on(TASK_TOPIC, (c) => {
    const { tasks } = c.payload as { tasks: { id: string; machineId: number }[] };
    const ids: string[] = [];
    const known: repo.TaskRow[] = [];
    for (const t of tasks) {
      const row = written.get(t.id);
      written.delete(t.id);
      if (!sessions.has(t.machineId)) continue;
      if (row) known.push(row);
      else ids.push(t.id);
    }
    if (ids.length > 0 || known.length > 0) setImmediate(() => void push(ids, known).catch(onError));
  });
  // Revoked credentials and retired machines end their sessions at once.
  feed.on('agent.credential', (c) => {
    const hashes = new Set((c.payload as { hashes: string[] }).hashes);
    for (const s of sessions.values()) if (hashes.has(s.secretHash)) end(s, 'credential revoked');
  });
  feed.on(MACHINE_TOPIC, (c) => {
    for (const m of (c.payload as { upsert?: { id: number; status: string }[] }).upsert ?? []) {
      const s = sessions.get(m.id);
      if (s && m.status === 'retired') end(s, 'machine retired');
    }
  });

  async function push(ids: string[], known: repo.TaskRow[] = []): Promise<void> {
    const byMachine = new Map<number, repo.TaskRow[]>();
    for (const t of [...known, ...(await repo.tasksById(db, ids))]) {
      const list = byMachine.get(t.machineId) ?? [];
      list.push(t);
      byMachine.set(t.machineId, list);
    }
    for (const [machineId, list] of byMachine) {
      const s = sessions.get(machineId);
      if (!s?.helloDone) continue;
      const changed = list.filter((t) => !isTerminal(t.state) && s.assigned.get(t.id) !== t.desired);
      const removed = list.filter((t) => isTerminal(t.state) && s.assigned.has(t.id)).map((t) => t.id);
      for (const t of changed) s.assigned.set(t.id, t.desired);
      for (const id of removed) s.assigned.delete(id);
      if (changed.length > 0 || removed.length > 0) {
        send(s, { t: 'assign', full: false, tasks: changed.map((t) => ({ taskId: t.id, kind: t.kind, spec: t.spec, desired: t.desired })), removed });
      }
    }
  }

  // Hellos are gathered and written together (like reports): 10,000 agents reconnecting after a
  // restart are a few writes, not 10,000 turns of the write lock.
  function hello(s: Session, msg: Extract<AgentMessage, { t: 'hello' }>): void {
    if (msg.protocol !== AGENT_PROTOCOL) return end(s, `protocol ${msg.protocol} is not spoken here (${AGENT_PROTOCOL} is)`);
    hellos.push({ s, msg });
    helloTimer ??= setTimeout(() => void greet(), 20);
  }

  async function greet(): Promise<void> {
    helloTimer = undefined;
    if (greeting) {
      await greeting;
      return greet();
    }
    // One per machine: the session still current (a replaced one is already closed).
    const batch = [...new Map(hellos.filter((h) => sessions.get(h.s.machineId) === h.s).map((h) => [h.s.machineId, h])).values()];
    hellos = [];
    if (batch.length === 0) return;
    greeting = (async () => {
      await writer.run(SYSTEM_ACTOR, async (w) => {
        await repo.agentsConnected(w.tx, batch.map(({ s, msg }) => ({ machineId: s.machineId, version: msg.agentVersion, facts: msg.facts })), replica);
        w.emit(AGENT_STATUS_TOPIC, { machineIds: batch.map(({ s }) => s.machineId), state: 'connected' });
      });
      // From here on, changes reach these sessions; the full sets read next cover anything before.
      for (const { s } of batch) {
        s.helloDone = true;
        send(s, { t: 'welcome', sessionId: s.id, hostname: s.hostname, heartbeatMs });
      }
      const open = new Map<number, repo.TaskRow[]>();
      for (const t of await repo.openTasksOf(db, batch.map(({ s }) => s.machineId))) open.set(t.machineId, [...(open.get(t.machineId) ?? []), t]);
      for (const { s } of batch) {
        const mine = open.get(s.machineId) ?? [];
        for (const t of mine) s.assigned.set(t.id, t.desired);
        send(s, { t: 'assign', full: true, tasks: mine.map((t) => ({ taskId: t.id, kind: t.kind, spec: t.spec, desired: t.desired })), removed: [] });
      }
      void channel.greeted(batch.map(({ s }) => s));
    })()
      .catch((err) => {
        onError(err);
        for (const { s } of batch) end(s, 'hello failed');
      })
      .finally(() => {
        greeting = null;
      });
    await greeting;
  }

  function onMessage(s: Session, data: Buffer | string): void {
    s.lastBeat = Date.now();
    s.beaten = true;
    // Heartbeats are most of the traffic (2,000/s from 10,000 agents): known by their bytes, not parsed.
    if (s.helloDone && data.length === HEARTBEAT.length && String(data) === HEARTBEAT) return;
    let parsed: ReturnType<typeof AgentMessage.safeParse>;
    try {
      parsed = AgentMessage.safeParse(JSON.parse(String(data)));
    } catch {
      return end(s, 'a message that is not JSON');
    }
    if (!parsed.success) return end(s, `a malformed message: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    const msg = parsed.data;
    if (msg.t === 'hello') return hello(s, msg);
    if (!s.helloDone) return end(s, 'hello must come first');
    if (msg.t === 'report') {
      pending.push({ session: s, seq: msg.seq, reports: msg.reports });
      const now = Date.now();
      if (flushTimer === undefined) firstPendingAt = now;
      clearTimeout(flushTimer);
      flushTimer = setTimeout(() => void flush(), Math.max(0, Math.min(REPORT_QUIET_MS, firstPendingAt + REPORT_MAX_WAIT_MS - now)));
    } else if (msg.t === 'push') channel.pushed(s, msg);
    else if (msg.t === 'publish') channel.published(s, msg);
    else if (msg.t === 'facts') void repo.agentFacts(db, s.machineId, msg.facts).catch(onError);
  }

  async function flush(): Promise<void> {
    flushTimer = undefined;
    if (flushing) {
      await flushing;
      return flush();
    }
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    flushing = (async () => {
      const applied = await writer.run(SYSTEM_ACTOR, async (w) => {
        const out = await repo.applyReports(w.tx, collapse(batch.flatMap((b) => b.reports.map((r) => ({ machineId: b.session.machineId, r })))));
        if (out.length > 0) w.emit(TASK_STATUS_TOPIC, { tasks: out });
        return out;
      });
      for (const b of batch) send(b.session, { t: 'ack', seq: b.seq });
      const ended = new Map<number, string[]>();
      for (const t of applied) {
        if (!isTerminal(t.state)) continue;
        ended.set(t.machineId, [...(ended.get(t.machineId) ?? []), t.id]);
      }
      for (const [machineId, ids] of ended) {
        const s = sessions.get(machineId);
        if (!s) continue;
        for (const id of ids) s.assigned.delete(id);
        send(s, { t: 'assign', full: false, tasks: [], removed: ids });
      }
    })()
      .catch((err) => {
        onError(err);
        pending.unshift(...batch); // not acknowledged: retried (the agent would resend anyway)
      })
      .finally(() => {
        flushing = null;
      });
    await flushing;
  }

  async function sweep(): Promise<void> {
    const now = Date.now();
    const beats: number[] = [];
    for (const s of sessions.values()) {
      if (s.beaten) beats.push(s.machineId);
      s.beaten = false;
      if (now - s.lastBeat > 3 * heartbeatMs) {
        s.socket.terminate();
        drop(s);
      }
    }
    await repo.agentBeats(db, beats);
    const silent = await repo.silentAgents(db, (3 * heartbeatMs) / 1000);
    const gone = silent.filter((id) => !sessions.has(id));
    if (gone.length > 0) {
      await writer.run(SYSTEM_ACTOR, async (w) => {
        const changed = await repo.agentState(w.tx, gone, 'unreachable');
        if (changed.length > 0) w.emit(AGENT_STATUS_TOPIC, { machineIds: changed, state: 'unreachable' });
      });
    }
    const orphans = await repo.orphanCandidates(db, orphanGrace, rebootGrace);
    if (orphans.length > 0) {
      await writer.run(SYSTEM_ACTOR, async (w) => {
        const out = await repo.orphanTasks(w.tx, orphans, rebootGrace);
        if (out.length > 0) w.emit(TASK_STATUS_TOPIC, { tasks: out });
      });
    }
  }

  function closeSessions(): void {
    for (const s of sessions.values()) {
      s.socket.terminate();
      channel.dropped(s);
    }
    sessions.clear();
  }

  return {
    replica,
    heartbeatMs,
    /** Take over a freshly upgraded socket of the agent of `machineId`. */
    attach(socket: SessionSocket, machineId: number, secretHash: string): void {
      const m = machines.model.get(machineId);
      if (!m) return socket.close(4004, 'no such machine');
      if (m.status === 'retired') return socket.close(4003, 'machine retired');
      const old = sessions.get(machineId);
      if (old) end(old, 'replaced by a newer session');
      const s: Session = { id: randomUUID(), machineId, hostname: m.hostname, secretHash, socket, lastBeat: Date.now(), beaten: true, assigned: new Map(), helloDone: false, docs: new Map(), subs: new Map() };
      sessions.set(machineId, s);
      socket.on('message', (d) => onMessage(s, d));
      socket.on('close', () => drop(s));
    },
    /** Create tasks inside an orchestrator's write; their agents get them after commit. */
    async createTasks(w: WriteContext, tasks: NewTask[]): Promise<string[]> {
      const rows = tasks.map((t) => ({
        id: randomUUID(),
        machineId: t.machineId,
        kind: t.kind,
        spec: t.spec,
        desired: t.desired ?? TaskState.COMPLETE,
        ownerKind: t.ownerKind ?? null,
        ownerId: t.ownerId ?? null,
      }));
      await repo.insertTasks(w.tx, rows);
      remember(rows.map((r) => ({ id: r.id, machineId: r.machineId, kind: r.kind, spec: r.spec, desired: r.desired, state: TaskState.NEW })));
      w.emit(TASK_TOPIC, { tasks: rows.map((r) => ({ id: r.id, machineId: r.machineId })) });
      return rows.map((r) => r.id);
    },
    /** Change tasks' desired state inside a write (stop: SHUTDOWN). */
    async setDesired(w: WriteContext, ids: string[], desired: TaskStateValue): Promise<number> {
      const changed = await repo.setDesired(w.tx, ids, desired);
      remember(changed);
      if (changed.length > 0) w.emit(TASK_TOPIC, { tasks: changed.map((t) => ({ id: t.id, machineId: t.machineId })) });
      return changed.length;
    },
    /** Per-machine documents, pushes from agents and live streams (channel.ts). */
    provideDoc: channel.provideDoc,
    refreshDoc: channel.refreshDoc,
    onPush: channel.onPush,
    subscribe: channel.subscribe,
    /** Whether the agent of `machineId` holds a session here. */
    connectedHere: (machineId: number) => sessions.get(machineId)?.helloDone === true,
    /** Sessions held by this replica. */
    get sessionCount() {
      return sessions.size;
    },
    statuses: (machineIds?: number[]) => repo.agentStatuses(db, machineIds),
    /** Drop every session now (server shutdown); agents reconnect to another replica. */
    closeSessions,
    /** Write queued reports now (tests, shutdown). */
    flush,
    start(): void {
      // One sweep at a time (a slow one under load is not stacked on), and stop() waits for it.
      const t = setInterval(() => {
        sweeping ??= sweep().catch(onError).finally(() => (sweeping = null));
      }, heartbeatMs);
      t.unref();
      timers.push(t);
    },
    async stop(): Promise<void> {
      for (const t of timers) clearInterval(t);
      await sweeping;
      clearTimeout(flushTimer);
      clearTimeout(helloTimer);
      hellos = [];
      await flush().catch(onError);
      closeSessions();
    },
  };
}

/**
 * One report per task for one UPDATE … FROM (PostgreSQL applies an arbitrary one of several rows
 * joining the same target): the furthest state wins, and live output chunks that continue each
 * other are joined.
 */
export function collapse(reports: { machineId: number; r: TaskReport }[]): { machineId: number; r: TaskReport }[] {
  const by = new Map<string, { machineId: number; r: TaskReport }>();
  for (const cur of reports) {
    const key = `${cur.machineId}/${cur.r.taskId}`;
    const prev = by.get(key);
    if (!prev) {
      by.set(key, cur);
      continue;
    }
    const a = prev.r;
    const b = cur.r;
    const next: TaskReport = b.state >= a.state ? { ...b } : { ...a };
    if (!isTerminal(next.state)) {
      for (const s of ['stdout', 'stderr'] as const) {
        const at = `${s}At` as const;
        const aText = a[s];
        const aAt = a[at];
        if (aText === undefined || aAt === undefined) continue;
        if (b[s] !== undefined && b[at] === aAt + Buffer.byteLength(aText)) {
          next[s] = aText + b[s];
          next[at] = aAt;
        } else if (b[s] === undefined) {
          next[s] = aText;
          next[at] = aAt;
        }
      }
    }
    by.set(key, { machineId: cur.machineId, r: next });
  }
  return [...by.values()];
}
