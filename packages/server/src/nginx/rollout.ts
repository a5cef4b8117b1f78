/**
 * Config push: every version a cluster publishes (nginx or LVS) goes out as `config` tasks to the
 * machines bound to the cluster node — one machine first (a connected one, by hostname), then,
 * once it applied the version, all the others; the first failure stops the rollout there, and the
 * machines not reached keep the version they run. A rollback is a new version and goes the same way.
 *
 * `advance` decides from the database alone inside one write (which holds the global write lock),
 * and runs on whichever replica hears of a publication, a task's end or a machine's move, so two
 * replicas never dispatch the same step twice; the unique in-flight task per machine row backs it.
 */
import { TaskState, isTerminal, stateName, type ConfigSpec } from '@canopy/core';
import { SYSTEM_ACTOR, type ChangeFeed, type WriteContext, type Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import { AGENT_STATUS_TOPIC, TASK_STATUS_TOPIC, type Dispatcher } from '../agents/index.ts';
import { MACHINE_TOPIC, type MachineService } from '../machines/index.ts';
import * as repo from './repo.ts';
import * as rr from './rollout-repo.ts';

export interface RolloutDeps {
  kind: repo.ConfigKind;
  writer: Writer;
  feed: ChangeFeed;
  db: Queryable;
  dispatcher: Dispatcher;
  machines: MachineService;
  pathOf(nodeId: number): string;
  onError?: ((err: unknown) => void) | undefined;
}

export type Rollout = ReturnType<typeof createRollout>;

/** `none`: nothing was published for the cluster yet. */
export type MachineRolloutState = 'current' | 'applying' | 'failed' | 'lagging' | 'none';

/** A cluster's rollout as the API shows it. */
export interface RolloutStatus {
  /** The newest published version. */
  latest: number;
  rollout: { version: number; state: rr.RolloutState; canary: string | null; failedOn: string | null; error: string | null; startedAt: string | null; updatedAt: string | null } | null;
  machines: {
    hostname: string;
    /** The version the machine runs (applied and reloaded); null before its first. */
    version: number | null;
    target: number;
    state: MachineRolloutState;
    /** Anything but `current`: behind the target, applying it, or failed on it. */
    lagging: boolean;
    appliedAt: string | null;
    task: { id: string; version: number | null; state: string | null } | null;
    failedVersion: number | null;
    error: string | null;
    agent: string;
  }[];
}

const iso = (t: string | Date | null) => (t === null ? null : new Date(t).toISOString());

interface Member {
  id: number;
  hostname: string;
}

/** The rollout orchestrator of one kind of cluster config; `start()` resumes rollouts after a restart. */
export function createRollout(deps: RolloutDeps) {
  const { kind, writer, feed, db, dispatcher, machines } = deps;
  const onError = deps.onError ?? (() => {});
  const ownerKind = `${kind}-config`;
  const topic = `${kind}.rollout`;
  const known = new Set<number>();
  const queued = new Set<number>();
  const running = new Set<Promise<void>>();
  let stopped = false;

  feed.on(`${kind}.config`, (c) => schedule((c.payload as { cluster: number }).cluster));
  feed.on(TASK_STATUS_TOPIC, (c) => {
    for (const t of (c.payload as { tasks: { ownerKind: string | null; ownerId: number | string | null }[] }).tasks) {
      if (t.ownerKind === ownerKind && t.ownerId !== null) schedule(Number(t.ownerId));
    }
  });
  // A machine bound to a cluster later gets the cluster's version too, and one whose agent is back what it missed.
  const clustersOf = (machineIds: number[]) => machineIds.flatMap((id) => machines.model.get(id)?.nodeIds ?? []).filter((n) => known.has(n));
  feed.on(MACHINE_TOPIC, (c) => {
    for (const m of (c.payload as { upsert?: { nodeIds?: number[] }[] }).upsert ?? []) for (const n of m.nodeIds ?? []) if (known.has(n)) schedule(n);
  });
  feed.on(AGENT_STATUS_TOPIC, (c) => {
    const { machineIds, state } = c.payload as { machineIds: number[]; state: string };
    if (state === 'connected') for (const n of new Set(clustersOf(machineIds))) schedule(n);
  });

  // Feed handlers may run inside another write: advance after it, once however many events came.
  function schedule(cluster: number): void {
    known.add(cluster);
    if (stopped || queued.has(cluster)) return;
    queued.add(cluster);
    setImmediate(() => {
      queued.delete(cluster);
      if (stopped) return;
      const run: Promise<void> = advance(cluster)
        .catch(onError)
        .finally(() => running.delete(run));
      running.add(run);
    });
  }

  /** The machines of a cluster: bound to its node itself, not retired, in hostname order. */
  function members(cluster: number): Member[] {
    return machines.model
      .query({ under: cluster }, 1_000_000, undefined)
      .ids.map((id) => machines.model.get(id))
      .filter((m) => m !== undefined && m.status !== 'retired' && m.nodeIds.includes(cluster))
      .map((m) => ({ id: m!.id, hostname: m!.hostname }))
      .sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
  }

  async function specOf(w: WriteContext, cluster: number, version: number): Promise<ConfigSpec> {
    const row = await repo.getVersion(w.tx, kind, cluster, version);
    if (!row) throw new Error(`${kind} v${version} of ${deps.pathOf(cluster)} is gone`);
    const blobs = await repo.getBlobs(w.tx, row.files.map((f) => f.sha256));
    const files = row.files.map((f) => {
      const content = blobs.get(f.sha256);
      if (content === undefined) throw new Error(`${kind} v${version} of ${deps.pathOf(cluster)}: the content of ${f.path} is gone`);
      return { name: f.path, content };
    });
    return { target: kind, cluster: deps.pathOf(cluster), version, files };
  }

  /** Fold finished tasks into their machine rows, then dispatch the rollout's next step. */
  async function advance(cluster: number): Promise<void> {
    const list = members(cluster);
    const agents = await dispatcher.statuses(list.map((m) => m.id));
    const connected = new Set(agents.filter((s) => s.state === 'connected').map((s) => s.machineId));
    // An agent that went away gets nothing new until it is back (a never-enrolled one gets its task on first hello).
    const away = new Set(agents.filter((s) => s.state !== 'connected').map((s) => s.machineId));
    await writer.run(SYSTEM_ACTOR, async (w) => {
      const latest = await repo.latestNumber(w.tx, kind, cluster);
      if (latest === 0) return;
      const stored = await rr.rollout(w.tx, kind, cluster);
      const ro = stored && stored.version >= latest ? { ...stored } : { version: latest, state: 'canary' as rr.RolloutState, canaryMachineId: null, failedMachineId: null, error: null };
      const before = JSON.stringify([stored?.version, stored?.state, stored?.canaryMachineId, stored?.error]);
      const rows = new Map((await rr.machineRows(w.tx, kind, cluster)).map((r) => [r.machineId, r]));
      const hostname = (id: number) => machines.model.get(id)?.hostname ?? `#${id}`;
      let changed = false;

      for (const r of rows.values()) {
        if (r.taskId === null || r.taskState === null || !isTerminal(r.taskState)) continue;
        if (r.taskState === TaskState.COMPLETE) Object.assign(r, { version: r.taskVersion, appliedAt: new Date().toISOString(), failedVersion: null, error: null });
        else if (r.taskState === TaskState.ORPHANED) {
          // Unreachable is not refused: the machine lags, and gets the version again once its agent is back.
          r.error = `v${r.taskVersion} not applied: the agent was unreachable; it is sent again when the agent is back`;
        } else {
          const error = r.taskError ?? `${stateName(r.taskState)}: ${r.taskMessage ?? ''}`;
          Object.assign(r, { failedVersion: r.taskVersion, error });
          if (r.taskVersion === ro.version && ro.state !== 'failed') {
            Object.assign(ro, { state: 'failed', failedMachineId: r.machineId, error: `${hostname(r.machineId)}: ${error}` });
            w.audit({ operation: `${kind}.rollout.failed`, targetKind: `${kind}-config`, target: deps.pathOf(cluster), nodeId: cluster, nodePath: deps.pathOf(cluster), after: { version: ro.version, machine: hostname(r.machineId), error: error.slice(0, 2000) } });
          }
        }
        Object.assign(r, { taskId: null, taskVersion: null });
        await rr.putMachine(w.tx, kind, cluster, r);
        changed = true;
      }

      const at = (m: Member) => rows.get(m.id)?.version === ro.version;
      const busy = (m: Member) => (rows.get(m.id)?.taskId ?? null) !== null;
      let dispatch: Member[] = [];
      if (ro.state !== 'failed') {
        if (ro.state === 'canary' && list.some(at)) ro.state = 'rolling';
        if (ro.state === 'done' && !list.every(at)) ro.state = 'rolling';
        const waiting = list.filter((m) => !at(m) && !busy(m) && !away.has(m.id));
        if (ro.state === 'rolling') dispatch = waiting;
        else if (ro.state === 'canary' && !list.some((m) => busy(m) && rows.get(m.id)?.taskVersion === ro.version)) {
          const pick = waiting.find((m) => connected.has(m.id)) ?? waiting[0];
          if (pick) {
            dispatch = [pick];
            ro.canaryMachineId = pick.id;
          }
        }
        if (list.length > 0 && list.every(at)) ro.state = 'done';
      }

      if (dispatch.length > 0) {
        const spec = await specOf(w, cluster, ro.version);
        const ids = await dispatcher.createTasks(w, dispatch.map((m) => ({ machineId: m.id, kind: 'config', spec, ownerKind, ownerId: cluster })));
        for (const [i, m] of dispatch.entries()) {
          const r = rows.get(m.id);
          const row = { machineId: m.id, version: r?.version ?? null, appliedAt: r?.appliedAt ?? null, taskId: ids[i]!, taskVersion: ro.version, failedVersion: r?.failedVersion ?? null, error: r?.error ?? null };
          // The write lock already orders every decision; this makes a second dispatch impossible even without it.
          if (!(await rr.claimMachine(w.tx, kind, cluster, row))) throw new Error(`${hostname(m.id)} already has a ${kind} config task in flight`);
        }
        changed = true;
      }
      if (JSON.stringify([ro.version, ro.state, ro.canaryMachineId, ro.error]) !== before) {
        await rr.putRollout(w.tx, kind, cluster, ro);
        changed = true;
      }
      if (changed) w.emit(topic, { cluster });
    });
  }

  /** Each machine of the cluster with the version it runs against the rollout's target. */
  async function status(cluster: number): Promise<RolloutStatus> {
    const latest = await repo.latestNumber(db, kind, cluster);
    const ro = await rr.rollout(db, kind, cluster);
    const rows = new Map((await rr.machineRows(db, kind, cluster)).map((r) => [r.machineId, r]));
    const list = members(cluster);
    const agents = new Map((await dispatcher.statuses(list.map((m) => m.id))).map((s) => [s.machineId, s.state]));
    const target = Math.max(ro?.version ?? 0, latest);
    const hostname = (id: number | null) => (id === null ? null : (machines.model.get(id)?.hostname ?? `#${id}`));
    return {
      latest,
      rollout: ro && ro.version === target
        ? { version: ro.version, state: ro.state, canary: hostname(ro.canaryMachineId), failedOn: hostname(ro.failedMachineId), error: ro.error, startedAt: iso(ro.startedAt), updatedAt: iso(ro.updatedAt) }
        : null,
      machines: list.map((m) => {
        const r = rows.get(m.id);
        const applying = r?.taskId != null && r.taskVersion === target;
        const state: MachineRolloutState = target === 0 ? 'none' : r?.version === target ? 'current' : applying ? 'applying' : r?.failedVersion === target ? 'failed' : 'lagging';
        return {
          hostname: m.hostname,
          version: r?.version ?? null,
          target,
          state,
          lagging: state !== 'current' && state !== 'none',
          appliedAt: iso(r?.appliedAt ?? null),
          task: r?.taskId ? { id: r.taskId, version: r.taskVersion, state: r.taskState === null ? null : stateName(r.taskState) } : null,
          failedVersion: r?.failedVersion ?? null,
          error: r?.error ?? null,
          agent: agents.get(m.id) ?? 'never connected',
        };
      }),
    };
  }

  return {
    topic,
    status,
    /** Decide the next step of `cluster`'s rollout now (tests; the feed calls it otherwise). */
    advance,
    /** Resume every cluster's rollout (the feed does not replay what happened while this replica was down). */
    async start(): Promise<void> {
      for (const id of await rr.publishedClusters(db, kind)) schedule(id);
    },
    /** Resolves once no decision is queued or being written (tests that compare the database before and after a call). */
    async idle(): Promise<void> {
      while (queued.size > 0 || running.size > 0) {
        await new Promise((r) => setImmediate(r));
        await Promise.all(running);
      }
    },
    /** Decide nothing more; resolves once the decisions under way are written. */
    async stop(): Promise<void> {
      stopped = true;
      await Promise.all(running);
    },
  };
}
