/**
 * The deployment orchestrator: after every change to a deployment, to one of its process tasks or
 * to the live state an agent pushed for one, and at the times the plan asks (monitor window, delay,
 * canary wait, health timeout), it reads the deployment from the database and applies
 * `planDeployment` inside one write, on whichever replica hears of it. The plan is idempotent, so
 * two replicas (or a restarted one) deciding the same step do it once.
 */
import { isTerminal, planDeployment, TaskState, type PlanDeployHost, type ProcessSpec, type ProcessTaskSpec, type TaskStateValue } from '@canopy/core';
import { SYSTEM_ACTOR, type ChangeFeed, type WriteContext, type Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import { TASK_STATUS_TOPIC, type Dispatcher } from '../agents/index.ts';
import { PROCESS_OWNER_KIND, PROCESS_STATE_TOPIC, processReadiness, type ProcessService } from '../processes/index.ts';
import type { TreeService } from '../tree/index.ts';
import * as repo from './repo.ts';

export const DEPLOY_TOPIC = 'deployment';

export interface DeployOrchestratorDeps {
  writer: Writer;
  feed: ChangeFeed;
  tree: TreeService;
  dispatcher: Dispatcher;
  processes: ProcessService;
  /** The service's answers counted since the batch was up, and its SLO (the monitor window's check). */
  availability?: AvailabilityOf | undefined;
  /** The failure action said rollback: start a deployment of the previous version. */
  rollback: (w: WriteContext, d: repo.DeploymentRow, why: string) => Promise<void>;
  onError?: ((err: unknown) => void) | undefined;
}

/** Answers of the service at `nodeId` counted from `fromMs` to `now`, and its SLO target. */
export type AvailabilityOf = (nodeId: number, fromMs: number, now: number) => { total: number; failed: number; target: number } | undefined;

export type DeployOrchestrator = ReturnType<typeof createDeployOrchestrator>;

/** The orchestrator; `start` picks up every active deployment (after a restart too). */
export function createDeployOrchestrator(deps: DeployOrchestratorDeps) {
  const { writer, feed, tree, dispatcher } = deps;
  const onError = deps.onError ?? (() => {});
  /** Active deployment per node, kept by the feed on every replica. */
  const activeByNode = new Map<number, number>();
  const timers = new Map<number, NodeJS.Timeout>();
  const queued = new Set<number>();
  const running = new Set<Promise<void>>();
  let stopped = false;

  feed.on(DEPLOY_TOPIC, (c) => {
    const { id, nodeId, active } = c.payload as { id: number; nodeId: number; active: boolean };
    if (active) activeByNode.set(nodeId, id);
    else if (activeByNode.get(nodeId) === id) {
      activeByNode.delete(nodeId);
      // The process orchestrator left the node alone while it was ours: it decides on it again.
      deps.processes.orchestrator.schedule(nodeId);
    }
    schedule(id);
  });
  const byNode = (nodeId: number) => {
    const id = activeByNode.get(nodeId);
    if (id !== undefined) schedule(id);
  };
  feed.on(TASK_STATUS_TOPIC, (c) => {
    for (const t of (c.payload as { tasks: { ownerKind: string | null; ownerId: number | string | null }[] }).tasks) {
      if (t.ownerKind === PROCESS_OWNER_KIND && t.ownerId !== null) byNode(Number(t.ownerId));
    }
  });
  feed.on(PROCESS_STATE_TOPIC, (c) => {
    for (const n of (c.payload as { nodeIds: number[] }).nodeIds) byNode(n);
  });

  function schedule(id: number): void {
    if (stopped || queued.has(id)) return;
    queued.add(id);
    setImmediate(() => {
      queued.delete(id);
      if (stopped) return;
      const run: Promise<void> = advance(id)
        .catch(onError)
        .finally(() => running.delete(run));
      running.add(run);
    });
  }

  function wakeAt(id: number, at: number | null): void {
    clearTimeout(timers.get(id));
    timers.delete(id);
    if (at === null || stopped) return;
    const t = setTimeout(() => {
      timers.delete(id);
      schedule(id);
    }, Math.max(0, at - Date.now()) + 5);
    t.unref();
    timers.set(id, t);
  }

  /** What the planner sees of a host's tasks: the old ones as one state, the new one as ready or not. */
  function observe(h: repo.HostRow, tasks: Map<string, repo.TaskRow>, ready: Set<string>): PlanDeployHost {
    const olds = h.oldTasks.map((id) => tasks.get(id)?.state).filter((s): s is TaskStateValue => s !== undefined);
    const oldTask = olds.length === 0 ? null : (olds.find((s) => !isTerminal(s)) ?? olds[0]!);
    let newTask = h.newTask ? (tasks.get(h.newTask)?.state ?? null) : null;
    // RUNNING is supervised; the host is up only once the process is running and healthy.
    if (newTask === TaskState.RUNNING && !ready.has(h.newTask!)) newTask = TaskState.STARTING;
    const error = h.newTask ? tasks.get(h.newTask)?.error : undefined;
    return { machineId: h.machineId, batch: h.batch, state: h.state, oldTask, newTask, since: Date.parse(h.since), error };
  }

  async function advance(id: number): Promise<void> {
    await writer.run(SYSTEM_ACTOR, async (w) => {
      const d = await repo.get(w.tx, id);
      if (!d || !repo.ACTIVE_STATES.includes(d.state) || d.state === 'awaiting-approval') return wakeAt(id, null);
      const node = tree.model.get(d.nodeId);
      const hosts = await repo.hosts(w.tx, id);
      const tasks = await repo.tasks(w.tx, hosts.flatMap((h) => (h.newTask ? [h.newTask, ...h.oldTasks] : h.oldTasks)));
      const ready = await processReadiness(w.tx, hosts.flatMap((h) => (h.newTask ? [h.newTask] : [])));
      const input = hosts.map((h) => observe(h, tasks, ready));
      const now = Date.now();
      const upAt = d.batchUpAt ? Date.parse(d.batchUpAt) : null;
      // The plan decides whether the monitor window's SLO check applies; the counts are in memory.
      const availability = upAt === null ? undefined : deps.availability?.(d.nodeId, upAt, now);
      const plan = planDeployment(
        { state: d.state, strategy: d.strategy, batches: d.batches, currentBatch: d.currentBatch, batchUpAt: upAt, canaryPassed: d.canaryPassed, isRollback: d.rollbackOf !== null, availability },
        input,
        now,
      );
      const host = (m: number) => hosts.find((h) => h.machineId === m)!;

      let staged: repo.HostChange[] = [];
      if (plan.stage.length > 0 && node) {
        const declared = await deps.processes.declaration(w.tx, d.nodeId);
        const spec: ProcessTaskSpec = { ...(declared as ProcessSpec), nodeId: d.nodeId, service: node.path, generation: d.generation, release: d.release };
        const ids = await dispatcher.createTasks(w, plan.stage.map((machineId) => ({ machineId, kind: 'process', spec, desired: TaskState.READY, ownerKind: PROCESS_OWNER_KIND, ownerId: d.nodeId })));
        staged = plan.stage.map((machineId, i) => ({ machineId, state: 'staging', newTask: ids[i]! }));
      }
      const newTasks = (ms: number[]) => ms.map((m) => host(m).newTask).filter((t): t is string => t !== null);
      if (plan.start.length > 0) await dispatcher.setDesired(w, newTasks(plan.start), TaskState.RUNNING);
      if (plan.drop.length > 0) await dispatcher.setDesired(w, newTasks(plan.drop), TaskState.SHUTDOWN);
      const olds = plan.stopOld.flatMap((m) => host(m).oldTasks.filter((t) => { const s = tasks.get(t)?.state; return s !== undefined && !isTerminal(s); }));
      if (olds.length > 0) await dispatcher.setDesired(w, olds, TaskState.SHUTDOWN);
      // One write for the step's hosts; a staged host's entry in plan.hosts keeps its new task.
      await repo.updateHosts(w.tx, id, [...staged, ...plan.hosts.map((h) => ({ machineId: h.machineId, state: h.state, reason: h.reason }))]);

      const c = plan.deployment;
      const changed = Object.keys(c).length > 0;
      if (changed) {
        // A stop that left some hosts switched keeps the node: the process orchestrator must not undo
        // them. Switched: started (or its old process stopped), not merely staged or refused at staging.
        const switched = (h: repo.HostRow) => {
          const st = plan.hosts.find((p) => p.machineId === h.machineId)?.state ?? h.state;
          if (st === 'stopping-old' || st === 'starting' || st === 'retiring-old') return true;
          return (st === 'updated' || st === 'failed') && h.newTask !== null && tasks.get(h.newTask)?.desired === TaskState.RUNNING;
        };
        const holds = c.finished ? c.state === 'stopped' && hosts.some(switched) : undefined;
        await repo.update(w.tx, id, { state: c.state, reason: c.pausedBecause, currentBatch: c.currentBatch, batchUpAt: c.batchUpAt, canaryPassed: c.canaryPassed, finished: c.finished, holds });
        if (c.state === 'succeeded') {
          // Hosts found on the version already keep their tasks: current, not to be restarted.
          const kept = hosts.filter((h) => h.newTask === null && h.state === 'updated').flatMap((h) => h.oldTasks.filter((t) => tasks.get(t)?.desired === TaskState.RUNNING));
          await deps.processes.adoptRelease(w, d.nodeId, d.generation, d.release, kept);
        }
        if (c.state && c.state !== d.state) w.audit({ operation: `deploy.${c.state}`, targetKind: 'deployment', target: String(id), nodeId: d.nodeId, nodePath: node?.path ?? null, before: { state: d.state }, after: { state: c.state, reason: c.pausedBecause ?? null } });
      }
      if (plan.rollback) await deps.rollback(w, d, c.pausedBecause ?? 'the failure action said rollback');
      if (changed || plan.hosts.length > 0) w.emit(DEPLOY_TOPIC, { id, nodeId: d.nodeId, active: !c.finished });
      wakeAt(id, c.finished ? null : plan.wakeAt);
    });
  }

  return {
    advance,
    schedule,
    /** The active deployment of `nodeId` on this replica's view. */
    activeOf: (nodeId: number) => activeByNode.get(nodeId),
    async start(q: Queryable): Promise<void> {
      for (const r of await repo.activeIds(q)) {
        activeByNode.set(r.nodeId, r.id);
        schedule(r.id);
      }
    },
    async idle(): Promise<void> {
      while (queued.size > 0 || running.size > 0) {
        await new Promise((r) => setImmediate(r));
        await Promise.all(running);
      }
    },
    async stop(): Promise<void> {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      await Promise.all(running);
    },
  };
}
