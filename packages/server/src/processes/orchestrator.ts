/**
 * The process orchestrator: keeps one `process` task per machine of each node that declares a
 * process (a global service, desired RUNNING), replaces them with a new generation one machine at a
 * time (plan.ts), and shuts them down when the node stops its process or a machine leaves it. It
 * decides from the database alone inside one write, after any change to a declaration, a machine's
 * bindings, an agent's session, a task or a pushed state, on whichever replica hears of it.
 */
import { TaskState, type ProcessRelease, type ProcessSpec, type ProcessTaskSpec } from '@canopy/core';
import { SYSTEM_ACTOR, type ChangeFeed, type Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import { AGENT_STATUS_TOPIC, TASK_STATUS_TOPIC, type Dispatcher } from '../agents/index.ts';
import { MACHINE_TOPIC, type MachineService } from '../machines/index.ts';
import type { TreeService } from '../tree/index.ts';
import { planProcesses } from './plan.ts';
import * as repo from './repo.ts';

export const PROCESS_TOPIC = 'process';
export const PROCESS_STATE_TOPIC = 'process.state';

export interface OrchestratorDeps {
  writer: Writer;
  feed: ChangeFeed;
  db: Queryable;
  tree: TreeService;
  machines: MachineService;
  dispatcher: Dispatcher;
  onError?: ((err: unknown) => void) | undefined;
  /** True while something else (a deployment) owns the node's tasks: leave the node alone. */
  held?: ((tx: Queryable, nodeId: number) => Promise<boolean>) | undefined;
  /**
   * True while this replica knows a deployment to own the node: its events are not decided on (each
   * would be a write that finds the node held). The owner schedules the node when it lets go.
   */
  busy?: ((nodeId: number) => boolean) | undefined;
}

export type Orchestrator = ReturnType<typeof createOrchestrator>;

/** Build the orchestrator; `load` learns the declared nodes, `start` reconciles every one. */
export function createOrchestrator(deps: OrchestratorDeps) {
  const { writer, feed, db, tree, machines, dispatcher } = deps;
  const onError = deps.onError ?? (() => {});
  /** Nodes with a declaration (kept current by the feed on every replica). */
  const declared = new Set<number>();
  const queued = new Set<number>();
  const running = new Set<Promise<void>>();
  let stopped = false;

  feed.on(PROCESS_TOPIC, (c) => {
    const { nodeId, deleted } = c.payload as { nodeId: number; deleted?: boolean };
    if (deleted) declared.delete(nodeId);
    else declared.add(nodeId);
    schedule(nodeId);
  });
  feed.on(PROCESS_STATE_TOPIC, (c) => {
    for (const n of (c.payload as { nodeIds: number[] }).nodeIds) schedule(n);
  });
  feed.on(TASK_STATUS_TOPIC, (c) => {
    for (const t of (c.payload as { tasks: { ownerKind: string | null; ownerId: number | string | null }[] }).tasks) {
      if (t.ownerKind === repo.OWNER_KIND && t.ownerId !== null) schedule(Number(t.ownerId));
    }
  });
  feed.on(MACHINE_TOPIC, () => {
    // A binding may have been added or removed: each declared node checks its members (few nodes).
    for (const n of declared) schedule(n);
  });
  feed.on(AGENT_STATUS_TOPIC, (c) => {
    const ids = (c.payload as { machineIds: number[] }).machineIds;
    for (const id of ids) for (const n of machines.model.get(id)?.nodeIds ?? []) if (declared.has(n)) schedule(n);
  });

  // Feed handlers may run inside another write: decide after it, once however many events came.
  function schedule(nodeId: number): void {
    if (stopped || queued.has(nodeId) || deps.busy?.(nodeId)) return;
    queued.add(nodeId);
    setImmediate(() => {
      queued.delete(nodeId);
      if (stopped) return;
      const run: Promise<void> = advance(nodeId)
        .catch(onError)
        .finally(() => running.delete(run));
      running.add(run);
    });
  }

  /** The machines of a node: bound to the node itself, not retired. */
  function members(nodeId: number): number[] {
    return machines.model
      .query({ under: nodeId }, 1_000_000, undefined)
      .ids.filter((id) => {
        const m = machines.model.get(id);
        return m !== undefined && m.status !== 'retired' && m.nodeIds.includes(nodeId);
      });
  }

  /** Create and shut down tasks so the node's machines run what it declares. */
  async function advance(nodeId: number): Promise<void> {
    const list = members(nodeId);
    // Never enrolled counts as away too: there is no agent to wait for.
    const connected = new Set((await dispatcher.statuses(list)).filter((s) => s.state === 'connected').map((s) => s.machineId));
    const away = new Set(list.filter((id) => !connected.has(id)));
    await writer.run(SYSTEM_ACTOR, async (w) => {
      if (await deps.held?.(w.tx, nodeId)) return;
      const row = await repo.getSpec(w.tx, nodeId);
      const open = await repo.openTasks(w.tx, nodeId);
      const node = tree.model.get(nodeId);
      if (!row || !node) {
        if (open.length > 0) await dispatcher.setDesired(w, open.map((t) => t.id), TaskState.SHUTDOWN);
        return;
      }
      const ready = await repo.readiness(w.tx, open.map((t) => t.id));
      const ended = new Map((await repo.endedTasks(w.tx, nodeId)).map((t) => [t.machineId, { generation: t.generation, state: t.state }]));
      // A process that runs from its deployments' release has nothing to start before the first one.
      const desired = (row.spec as ProcessSpec).deployed && !row.release ? 'stopped' : row.desired;
      const plan = planProcesses({ desired, generation: row.generation, adopted: new Set(row.adopted), members: list, open, ended, ready, away });
      if (plan.shutdown.length > 0) await dispatcher.setDesired(w, plan.shutdown, TaskState.SHUTDOWN);
      if (plan.create.length > 0) {
        const spec: ProcessTaskSpec = { ...(row.spec as ProcessSpec), nodeId, service: node.path, generation: row.generation, ...(row.release ? { release: row.release as ProcessRelease } : {}) };
        await dispatcher.createTasks(w, plan.create.map((machineId) => ({ machineId, kind: 'process', spec, desired: TaskState.RUNNING, ownerKind: repo.OWNER_KIND, ownerId: nodeId })));
      }
      if (plan.shutdown.length > 0 || plan.create.length > 0) await repo.pruneStates(w.tx, nodeId);
    });
  }

  return {
    declared,
    members,
    advance,
    schedule,
    async load(q: Queryable): Promise<void> {
      declared.clear();
      for (const r of await repo.allSpecs(q)) declared.add(r.nodeId);
    },
    /** Reconcile every declared node (what happened while this replica was down is not replayed). */
    start(): void {
      for (const n of declared) schedule(n);
    },
    /** Resolves once no decision is queued or being written. */
    async idle(): Promise<void> {
      while (queued.size > 0 || running.size > 0) {
        await new Promise((r) => setImmediate(r));
        await Promise.all(running);
      }
    },
    async stop(): Promise<void> {
      stopped = true;
      await Promise.all(running);
    },
  };
}
