/**
 * Builds: a service node's source (git URL + ref) built by its command on a machine of the node's
 * build pool, packaged and stored in the artifact repository. The orchestrator (`advance`) runs
 * after every change to a build, its task, a pool's agents or the settings, on whichever replica
 * hears of it, and decides from the database alone under the write lock (which builds ended, which
 * queued ones start where), so a build is started once and a restarted control center picks up
 * where it was.
 */
import { assignBuilds, BuildSpec, ConflictError, NotFoundError, TaskState, ValidationError, waitingReason, type BuildState, type BuildView, type CreateBuildInput, type PoolState } from '@canopy/core';
import { SYSTEM_ACTOR, type Actor, type ChangeFeed, type WriteContext, type Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import type { AuthService } from '../auth/index.ts';
import { MACHINE_TOPIC, type MachineService } from '../machines/index.ts';
import type { TreeService } from '../tree/index.ts';
import { AGENT_STATUS_TOPIC, TASK_STATUS_TOPIC, type Dispatcher } from '../agents/index.ts';
import * as repo from './repo.ts';
import { BUILD_SETTINGS_TOPIC, effectiveAt } from './settings.ts';
import { buildView } from './views.ts';
import { artifactExists, type ArtifactSink } from './artifact-port.ts';

export const BUILD_TOPIC = 'build';
/** The owner kind of build tasks. */
export const BUILD_OWNER = 'build';

export interface BuildServiceDeps {
  writer: Writer;
  feed: ChangeFeed;
  db: Queryable;
  tree: TreeService;
  machines: MachineService;
  auth: AuthService;
  dispatcher: Dispatcher;
  /** The artifact repository, to refuse a version it already holds before building. */
  artifacts?: Pick<ArtifactSink, 'get'> | undefined;
  onError?: ((err: unknown) => void) | undefined;
}

export type BuildService = ReturnType<typeof createBuildService>;

/** Build the service and subscribe it to what moves builds on. */
export function createBuildService(deps: BuildServiceDeps) {
  const { writer, feed, db, tree, machines, auth, dispatcher } = deps;
  const onError = deps.onError ?? (() => {});
  const listeners = new Map<number, Set<() => void>>();
  let queued = false;
  let again = false;
  let running: Promise<void> | null = null;

  feed.on(TASK_STATUS_TOPIC, (c) => {
    let ours = false;
    for (const t of (c.payload as { tasks: { ownerKind: string | null; ownerId: number | null; state: number }[] }).tasks) {
      if (t.ownerKind !== BUILD_OWNER || t.ownerId === null) continue;
      notify(Number(t.ownerId));
      // Live log chunks come ten times a second: only a task's end frees a slot or ends a build.
      if (t.state >= TaskState.COMPLETE) ours = true;
    }
    if (ours) schedule();
  });
  feed.on(BUILD_TOPIC, (c) => {
    for (const id of (c.payload as { ids: number[] }).ids) notify(id);
  });
  for (const topic of [AGENT_STATUS_TOPIC, MACHINE_TOPIC, BUILD_SETTINGS_TOPIC]) feed.on(topic, () => schedule());

  function notify(id: number): void {
    for (const l of listeners.get(id) ?? []) l();
  }

  // Feed handlers may run inside another write: advance after it, once however many changes came.
  function schedule(): void {
    if (running) {
      again = true;
      return;
    }
    if (queued) return;
    queued = true;
    setImmediate(() => {
      queued = false;
      running = advance()
        .catch(onError)
        .finally(() => {
          running = null;
          if (again) {
            again = false;
            schedule();
          }
        });
    });
  }

  /** The state a build takes from its finished task. */
  function outcome(b: repo.BuildRow): { state: BuildState; reason: string | null } {
    const t = b.taskState!;
    if (t === TaskState.COMPLETE) {
      if (b.artifactVersion) return { state: 'succeeded', reason: null };
      return { state: 'failed', reason: 'the build finished but no artifact was stored' };
    }
    if (b.state === 'cancelling' || t === TaskState.SHUTDOWN) return { state: 'cancelled', reason: b.state === 'cancelling' ? 'cancelled' : (b.taskError ?? 'stopped') };
    if (t === TaskState.ORPHANED) return { state: 'failed', reason: `the agent of ${b.hostname} went away during the build` };
    return { state: 'failed', reason: b.taskError ?? b.taskMessage ?? 'failed' };
  }

  function poolStates(w: WriteContext, poolIds: number[], running: Map<number, number>, connected: Set<number>, settings: repo.SettingsRow[]): Map<number, PoolState> {
    const pools = new Map<number, PoolState>();
    for (const id of poolIds) {
      const ids = tree.model.get(id) ? machines.model.query({ under: id }, 1_000_000, undefined).ids : [];
      const list = ids.map((m) => machines.model.get(m)).filter((m) => m !== undefined && m.status !== 'retired');
      pools.set(id, {
        machines: list.map((m) => ({ id: m!.id, connected: connected.has(m!.id), running: running.get(m!.id) ?? 0 })),
        maxPerMachine: effectiveAt(tree, settings, id).maxPerMachine.value,
      });
    }
    void w;
    return pools;
  }

  /** Decide and do the next step of every unfinished build in one write. */
  async function advance(): Promise<void> {
    // Most changes that wake the orchestrator (agents, machines) find nothing to do: skip the write lock then.
    if ((await repo.unfinishedIds(db)).length === 0) return;
    await writer.run(SYSTEM_ACTOR, async (w) => {
      const open = await repo.unfinished(w.tx);
      if (open.length === 0) return;
      const changed: number[] = [];
      for (const b of open.filter((x) => x.state !== 'queued' && x.taskState !== null && x.taskState >= TaskState.COMPLETE)) {
        const o = outcome(b);
        await repo.updateBuild(w.tx, b.id, { state: o.state, reason: o.reason, finished: true });
        w.audit({ operation: `build.${o.state}`, targetKind: 'build', target: String(b.id), nodeId: b.nodeId, nodePath: b.nodePath, after: { state: o.state, reason: o.reason, artifact: b.artifactVersion } });
        changed.push(b.id);
      }
      const waiting = open.filter((b) => b.state === 'queued');
      if (waiting.length > 0) {
        const poolIds = [...new Set(waiting.map((b) => b.poolNodeId))];
        const perMachine = await repo.runningPerMachine(w.tx);
        const settings = await repo.allSettings(w.tx);
        const candidates = poolIds.flatMap((id) => (tree.model.get(id) ? machines.model.query({ under: id }, 1_000_000, undefined).ids : []));
        const pools = poolStates(w, poolIds, perMachine, await repo.connectedOf(w.tx, candidates), settings);
        const assigned = assignBuilds(waiting.map((b) => ({ id: b.id, poolNodeId: b.poolNodeId })), pools);
        const byBuild = new Map(assigned.map((a) => [a.buildId, a.machineId]));
        const starting = waiting.filter((b) => byBuild.has(b.id));
        const taskIds = await dispatcher.createTasks(w, starting.map((b) => ({ machineId: byBuild.get(b.id)!, kind: 'build', spec: specOf(b), ownerKind: BUILD_OWNER, ownerId: b.id })));
        for (const [i, b] of starting.entries()) {
          const machineId = byBuild.get(b.id)!;
          const hostname = machines.model.get(machineId)?.hostname ?? `#${machineId}`;
          await repo.updateBuild(w.tx, b.id, { state: 'running', reason: null, machineId, hostname, taskId: taskIds[i]!, started: true });
          w.audit({ operation: 'build.start', targetKind: 'build', target: String(b.id), nodeId: b.nodeId, nodePath: b.nodePath, after: { hostname } });
          changed.push(b.id);
        }
        for (const b of waiting.filter((x) => !byBuild.has(x.id))) {
          const reason = waitingReason(pools.get(b.poolNodeId) ?? { machines: [], maxPerMachine: 1 }, tree.model.get(b.poolNodeId)?.path ?? b.poolPath);
          if (reason === b.reason) continue;
          await repo.updateBuild(w.tx, b.id, { reason });
          changed.push(b.id);
        }
      }
      if (changed.length > 0) w.emit(BUILD_TOPIC, { ids: changed });
    });
  }

  function specOf(b: repo.BuildRow): BuildSpec {
    return BuildSpec.parse({ buildId: b.id, repo: b.repo, ref: b.ref, command: b.command, outputPath: b.outputPath, user: b.runAs, env: b.env, timeoutSeconds: b.timeoutSeconds });
  }

  async function get(id: number): Promise<repo.BuildRow> {
    const b = await repo.build(db, id);
    if (!b) throw new NotFoundError('build', String(id));
    return b;
  }

  const pathOf = (id: number, fallback: string) => tree.model.get(id)?.path ?? fallback;
  const viewOf = (b: repo.BuildRow): BuildView => buildView(b, pathOf(b.nodeId, b.nodePath), pathOf(b.poolNodeId, b.poolPath));

  return {
    /** Queue a build of `input.nodePath`; it starts at once when its pool has a free slot. */
    async create(actor: Actor, input: CreateBuildInput): Promise<BuildView> {
      const node = auth.nodeFor(actor, 'deploy.run', input.nodePath);
      if (input.version !== undefined && deps.artifacts && (await artifactExists(deps.artifacts, node.path, input.version))) {
        throw new ConflictError(`${node.path}@${input.version} is already in the artifact repository`, { version: input.version });
      }
      const id = await writer.run(actor, async (w) => {
        const settings = await repo.allSettings(w.tx);
        const e = effectiveAt(tree, settings, node.id);
        if (!e.pool) throw new ValidationError(`no build pool applies to ${node.path}: set one on it or an ancestor (PUT /api/v1/nodes/{path}/build-settings {"pool": …})`, [{ path: ['nodePath'], message: 'no build pool' }]);
        const poolMachines = machines.model.query({ under: e.pool.id }, 1, undefined).ids;
        if (poolMachines.length === 0) throw new ConflictError(`the build pool ${e.pool.path} has no machines`, { pool: e.pool.path });
        if (input.version !== undefined) {
          const other = await repo.versionTaken(w.tx, node.id, input.version);
          if (other !== undefined) throw new ConflictError(`build ${other} already makes ${node.path}@${input.version}`, { build: other });
        }
        const buildId = await repo.insertBuild(w.tx, {
          nodeId: node.id, nodePath: node.path, poolNodeId: e.pool.id, poolPath: e.pool.path, repo: input.repo, ref: input.ref, command: input.command,
          outputPath: input.outputPath, env: input.env, runAs: e.user.value, timeoutSeconds: input.timeoutSeconds ?? 3600, version: input.version ?? null, createdBy: actor.name,
        });
        // Values of env may be secrets: the audit names the variables only.
        w.audit({ operation: 'build.create', targetKind: 'build', target: String(buildId), nodeId: node.id, nodePath: node.path, after: { repo: input.repo, ref: input.ref, command: input.command, outputPath: input.outputPath, version: input.version ?? null, pool: e.pool.path, env: Object.keys(input.env) } });
        w.emit(BUILD_TOPIC, { ids: [buildId] });
        return buildId;
      });
      await advance();
      return viewOf(await get(id));
    },

    /** One build. */
    async detail(id: number): Promise<BuildView> {
      return viewOf(await get(id));
    },

    /** The node path a build belongs to (for authorizing). */
    async nodePathOf(id: number): Promise<string> {
      const b = await get(id);
      return pathOf(b.nodeId, b.nodePath);
    },

    /** The raw row (upload checks). */
    row: get,

    /** Builds of the subtree at `underId` (undefined: every build), newest first. */
    async list(opts: { underId?: number | undefined; limit: number; before?: number | undefined }): Promise<BuildView[]> {
      const nodeIds = opts.underId === undefined ? undefined : tree.model.subtreeIds(opts.underId);
      return (await repo.listBuilds(db, { nodeIds, limit: opts.limit, before: opts.before })).map(viewOf);
    },

    /** Cancel: a queued build ends at once, a running one is stopped on its machine (its process group killed). */
    async cancel(actor: Actor, id: number): Promise<BuildView> {
      await writer.run(actor, async (w) => {
        const b = await repo.build(w.tx, id, true);
        if (!b) throw new NotFoundError('build', String(id));
        if (!['queued', 'running'].includes(b.state)) throw new ConflictError(`build ${id} is ${b.state}: there is nothing to cancel`, { state: b.state });
        if (b.state === 'queued') await repo.updateBuild(w.tx, id, { state: 'cancelled', reason: `cancelled by ${actor.name}`, finished: true });
        else {
          await dispatcher.setDesired(w, [b.taskId!], TaskState.SHUTDOWN);
          await repo.updateBuild(w.tx, id, { state: 'cancelling', reason: `cancelled by ${actor.name}` });
        }
        w.audit({ operation: 'build.cancel', targetKind: 'build', target: String(id), nodeId: b.nodeId, nodePath: b.nodePath, before: { state: b.state } });
        w.emit(BUILD_TOPIC, { ids: [id] });
      });
      schedule();
      return viewOf(await get(id));
    },

    /** Record the artifact a build stored (the upload route calls it after the repository took it). */
    async stored(id: number, a: { version: string; sha256: string; size: number; commit: string }): Promise<void> {
      await writer.run(SYSTEM_ACTOR, async (w) => {
        const b = await repo.build(w.tx, id, true);
        if (!b || b.artifactVersion) return;
        await repo.updateBuild(w.tx, id, { commitSha: a.commit, artifactVersion: a.version, artifactSha256: a.sha256, artifactSize: a.size });
        w.audit({ operation: 'build.artifact', targetKind: 'build', target: String(id), nodeId: b.nodeId, nodePath: b.nodePath, after: a });
        w.emit(BUILD_TOPIC, { ids: [id] });
      });
    },

    /** The log so far. */
    log: (taskId: string) => repo.taskLog(db, taskId),

    /** Call `fn` whenever build `id` or its task changes; returns the unsubscribe. */
    follow(id: number, fn: () => void): () => void {
      const set = listeners.get(id) ?? new Set();
      set.add(fn);
      listeners.set(id, set);
      return () => {
        set.delete(fn);
        if (set.size === 0) listeners.delete(id);
      };
    },

    /** Pick up unfinished builds (after a restart the feed does not replay). */
    async start(): Promise<void> {
      if ((await repo.unfinishedIds(db)).length > 0) schedule();
    },

    /** Wait for an orchestrator step in flight (shutdown, tests). */
    async stop(): Promise<void> {
      await running;
    },
  };
}
