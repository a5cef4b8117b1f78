/**
 * Deployments (部署): a node's supervised process rolled to a version of its artifact repository,
 * batch by batch, every host staged first; paused, resumed, stopped, approved and rolled back by
 * people, driven by the orchestrator. A deployment owns the node's process tasks while it runs.
 */
import { CanopyError, ConflictError, CreateDeploymentInput, NotFoundError, planBatches, TaskState, ValidationError, type DeployAction, type DeploymentDetailView, type DeploymentView, type ProcessRelease } from '@canopy/core';
import { SYSTEM_ACTOR, type Actor, type ChangeFeed, type WriteContext, type Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import type { AuthService } from '../auth/index.ts';
import type { Dispatcher } from '../agents/index.ts';
import type { ArtifactService } from '../artifacts/index.ts';
import type { MachineService } from '../machines/index.ts';
import type { ProcessService } from '../processes/index.ts';
import type { TreeNode, TreeService } from '../tree/index.ts';
import { createDeployOrchestrator, DEPLOY_TOPIC, type AvailabilityOf } from './orchestrator.ts';
import * as repo from './repo.ts';
import { deploymentView, hostViews, progressOf } from './views.ts';

export interface DeployDeps {
  writer: Writer;
  feed: ChangeFeed;
  db: Queryable;
  tree: TreeService;
  machines: MachineService;
  auth: AuthService;
  dispatcher: Dispatcher;
  processes: ProcessService;
  artifacts: ArtifactService;
  /** The service's answers counted from `fromMs` on and its SLO target (the availability service). */
  availability?: AvailabilityOf | undefined;
  onError?: ((err: unknown) => void) | undefined;
}

export type DeployService = ReturnType<typeof createDeployService>;

/** Build the deployment service and its orchestrator. */
export function createDeployService(deps: DeployDeps) {
  const { writer, db, tree, machines, auth, processes, artifacts } = deps;
  const orchestrator = createDeployOrchestrator({ ...deps, rollback: (w, d, why) => rollbackOf(w, d, why).then(() => {}) });
  const listeners = new Map<number, Set<() => void>>();
  deps.feed.on(DEPLOY_TOPIC, (c) => {
    for (const fn of listeners.get((c.payload as { id: number }).id) ?? []) fn();
  });

  function nodeOf(actor: Actor, d: repo.DeploymentRow, op: 'deploy.read' | 'deploy.run' | 'deploy.approve'): TreeNode {
    const node = tree.model.get(d.nodeId);
    if (!node || !auth.can(actor, 'deploy.read', node.id)) throw new NotFoundError('deployment', String(d.id));
    auth.authorize(actor, op, node);
    return node;
  }

  async function load(q: Queryable, id: number): Promise<repo.DeploymentRow> {
    const d = await repo.get(q, id);
    if (!d) throw new NotFoundError('deployment', String(id));
    return d;
  }

  /** Whether the node (or the nearest ancestor that says) asks for approval. */
  async function requiresApproval(q: Queryable, node: TreeNode): Promise<{ requireApproval: boolean; inherited: boolean }> {
    const chain = [node.id, ...tree.model.ancestors(node.id).map((a) => a.id).reverse()];
    const set = await repo.policies(q, chain);
    for (const id of chain) if (set.has(id)) return { requireApproval: set.get(id)!, inherited: id !== node.id };
    return { requireApproval: false, inherited: true };
  }

  /** Plan and write a new deployment of `version` over the node's machines (inside a write). */
  async function plan(w: WriteContext, actor: Actor, node: TreeNode, version: string, art: { sha256: string; size: number }, strategy: CreateDeploymentInput['strategy'], opts: { note: string | null; rollbackOf: number | null }): Promise<repo.DeploymentRow> {
    const s = CreateDeploymentInput.shape.strategy.parse(strategy);
    const declared = await processes.declaration(w.tx, node.id);
    if (!declared) throw new ConflictError(`${node.path} declares no process: PUT /api/v1/nodes/${node.path}/process first`, { node: node.path });
    const running = await repo.activeFor(w.tx, node.id);
    if (running) throw new ConflictError(`deployment #${running.id} of ${node.path} is ${running.state}: pause, stop or finish it first`, { deployment: running.id, state: running.state });
    const members = processes.orchestrator.members(node.id).sort((a, b) => (machines.model.get(a)?.hostname ?? '') < (machines.model.get(b)?.hostname ?? '') ? -1 : 1);
    const open = await processes.openTasks(w.tx, node.id);
    const current = (m: number) => open.filter((t) => t.machineId === m);
    // What a host runs: its newest task meant to run (a staged task a stopped deployment dropped is not).
    const versions = members.map((m) => current(m).findLast((t) => t.desired === TaskState.RUNNING)?.version ?? null);
    // Batches are cut from the hosts to change; a host on the version already (a rollback after a
    // partial deployment) sits in the first batch as updated and is not touched again.
    const sizes = planBatches(versions.filter((v) => v !== version).length, s.batch, s.canary !== false);
    const previous = mostCommon(versions.filter((v): v is string => v !== null && v !== version));
    const release: ProcessRelease = { version, artifact: { path: `/api/v1/artifacts/${node.path}/${encodeURIComponent(version)}`, sha256: art.sha256, size: art.size }, keep: 5 };
    const generation = Math.max(await processes.generationOf(w.tx, node.id), ...(await repo.list(w.tx, [node.id], 1, undefined)).map((d) => d.generation)) + 1;
    const approval = await requiresApproval(w.tx, node);
    const d = await repo.insert(w.tx, { nodeId: node.id, version, previousVersion: previous, release, strategy: s, generation, state: approval.requireApproval && opts.rollbackOf === null ? 'awaiting-approval' : 'staging', note: opts.note, batches: sizes, rollbackOf: opts.rollbackOf, createdBy: actor.name });
    const batchOf = sizes.flatMap((n, b) => Array<number>(n).fill(b));
    let next = 0;
    const rows = members.map((m, idx) => {
      const done = versions[idx] === version;
      return { machineId: m, batch: done ? 0 : batchOf[next++]!, state: done ? ('updated' as const) : ('pending' as const), fromVersion: versions[idx] ?? null, oldTasks: current(m).map((t) => t.id) };
    });
    await repo.insertHosts(w.tx, d.id, rows);
    if (members.length === 0 && d.state === 'staging') {
      // No machine to switch: the release is the node's at once (its next machines start on it).
      await repo.update(w.tx, d.id, { state: 'succeeded', finished: true, holds: false });
      await processes.adoptRelease(w, node.id, generation, release);
    }
    w.audit({ operation: opts.rollbackOf === null ? 'deploy.create' : 'deploy.rollback', targetKind: 'deployment', target: String(d.id), nodeId: node.id, nodePath: node.path, after: { version, previousVersion: previous, strategy: s, hosts: members.length } });
    w.emit(DEPLOY_TOPIC, { id: d.id, nodeId: node.id, active: members.length > 0 || d.state === 'awaiting-approval' });
    return d;
  }

  async function rollbackOf(w: WriteContext, d: repo.DeploymentRow, why: string): Promise<repo.DeploymentRow> {
    const node = tree.model.get(d.nodeId);
    if (!node) throw new NotFoundError('node', String(d.nodeId));
    if (!d.previousVersion) throw new ConflictError(`deployment #${d.id} has no previous version to roll back to`, { deployment: d.id });
    // The previous version's release as its deployment had it (no read outside the write).
    const before = (await repo.list(w.tx, [d.nodeId], 200, d.id)).find((x) => x.version === d.previousVersion && x.release.artifact);
    if (!before?.release.artifact) throw new ConflictError(`no deployment of ${d.previousVersion} to roll back to`, { deployment: d.id });
    return plan(w, SYSTEM_ACTOR, node, d.previousVersion, before.release.artifact, { ...d.strategy, canary: false }, { note: `rollback of #${d.id}: ${why}`, rollbackOf: d.id });
  }

  async function detail(id: number): Promise<DeploymentDetailView> {
    // Separate reads, ordered so each is at least as new as the one before: a rollback found means
    // the step that made it (and failed this one) is seen in the deployment and its hosts too.
    let d = await load(db, id);
    const next = (await repo.list(db, [d.nodeId], 50, undefined)).find((x) => x.rollbackOf === id);
    if (next) d = await load(db, id);
    const hosts = await repo.hosts(db, id);
    const tasks = await repo.tasks(db, hosts.flatMap((h) => (h.newTask ? [h.newTask] : [])));
    return { ...deploymentView(d, tree, progressOf(hosts), next?.id ?? null), hosts: hostViews(hosts, tasks, machines) };
  }

  return {
    orchestrator,
    async start(): Promise<void> {
      await orchestrator.start(db);
    },
    stop: () => orchestrator.stop(),
    /** What holds the node's process tasks (for the process service's 409), in words. */
    async heldBy(tx: Queryable, nodeId: number): Promise<string | undefined> {
      const h = await repo.holder(tx, nodeId);
      return h ? `deployment #${h.id} (${h.state})` : undefined;
    },

    async create(actor: Actor, input: CreateDeploymentInput): Promise<DeploymentDetailView> {
      const body = CreateDeploymentInput.parse(input);
      const node = auth.nodeFor(actor, 'deploy.run', body.nodePath);
      // Read before the write: the artifact service reads outside it, which would wait on the write lock.
      const art = await artifacts.get(node.path, body.version).catch((err: unknown) => {
        if (err instanceof NotFoundError) throw new ValidationError(`${node.path} has no version ${body.version} in its artifact repository`, [{ path: ['version'], message: `unknown version of ${node.path}` }]);
        throw err;
      });
      const d = await writer.run(actor, (w) => plan(w, actor, node, body.version, art, body.strategy, { note: body.reason ?? null, rollbackOf: null }));
      await artifacts.markDeployed(actor, node.path, body.version).catch((err: unknown) => deps.onError?.(err));
      return detail(d.id);
    },

    async get(actor: Actor, id: number): Promise<DeploymentDetailView> {
      nodeOf(actor, await load(db, id), 'deploy.read');
      return detail(id);
    },
    detail,

    async list(actor: Actor, q: { node?: string | undefined; limit: number; cursor?: string | undefined }): Promise<{ items: DeploymentView[]; nextCursor: string | null }> {
      const nodes = q.node === undefined ? undefined : [auth.nodeFor(actor, 'deploy.read', q.node).id];
      const out: DeploymentView[] = [];
      let before = q.cursor ? Number(q.cursor) : undefined;
      // Filter by what the actor may read; page on until the page is full or the table ends.
      for (;;) {
        const batch = await repo.list(db, nodes, q.limit, before);
        const counts = await repo.progress(db, batch.map((d) => d.id));
        for (const d of batch) if (auth.can(actor, 'deploy.read', d.nodeId) && out.length < q.limit) out.push(deploymentView(d, tree, counts.get(d.id), null));
        if (batch.length < q.limit || out.length >= q.limit) return { items: out, nextCursor: out.length === q.limit ? String(out.at(-1)!.id) : null };
        before = batch.at(-1)!.id;
      }
    },

    async act(actor: Actor, id: number, action: DeployAction): Promise<{ view: DeploymentDetailView; created: boolean }> {
      const op = action === 'approve' ? 'deploy.approve' : 'deploy.run';
      const out = await writer.run(actor, async (w) => {
        const d = await load(w.tx, id);
        const node = nodeOf(actor, d, op);
        const refuse = (why: string) => new ConflictError(`deployment #${id} is ${d.state}: ${why}`, { deployment: id, state: d.state });
        const change = async (state: repo.DeploymentRow['state'], reason: string | null) => {
          await repo.update(w.tx, id, { state, reason });
          w.audit({ operation: `deploy.${action}`, targetKind: 'deployment', target: String(id), nodeId: node.id, nodePath: node.path, before: { state: d.state }, after: { state } });
          w.emit(DEPLOY_TOPIC, { id, nodeId: node.id, active: true });
        };
        if (action === 'approve') {
          if (d.state !== 'awaiting-approval') throw refuse('only a deployment awaiting approval can be approved');
          if (actor.name === d.createdBy) throw new CanopyError('forbidden', `deployment #${id} needs a second person to approve it: ${actor.name} started it`, { deployment: id });
          await repo.update(w.tx, id, { approvedBy: actor.name });
          await change('staging', null);
        } else if (action === 'pause') {
          if (d.state !== 'staging' && d.state !== 'running') throw refuse('only a staging or running deployment can be paused');
          await change('paused', `paused by ${actor.name}`);
        } else if (action === 'resume') {
          if (d.state !== 'paused') throw refuse('only a paused deployment can be resumed');
          // Paused while staging: staging goes on; a canary pause lets the next batches go; a batch
          // below the SLO is watched again for a whole monitor window from now.
          const staging = (await repo.hosts(w.tx, id)).some((h) => h.state === 'pending' || h.state === 'staging');
          const again = d.reason?.startsWith('availability') === true;
          await repo.update(w.tx, id, { canaryPassed: d.canaryPassed || d.reason?.startsWith('canary') === true, ...(again ? { batchUpAt: null } : {}) });
          await change(staging ? 'staging' : 'running', null);
        } else if (action === 'stop') {
          if (!repo.ACTIVE_STATES.includes(d.state) || d.state === 'stopping') throw refuse('it has already finished or is stopping');
          await change('stopping', `stopped by ${actor.name}`);
        } else {
          if (repo.ACTIVE_STATES.includes(d.state) && d.state !== 'paused') throw refuse('pause or stop it before rolling it back');
          if (d.state === 'rolled-back') throw refuse('it was rolled back already');
          if (d.state === 'paused') {
            // Hosts whose turn never came drop their staged release; the rollback handles the rest.
            const waiting = (await repo.hosts(w.tx, id)).filter((h) => h.state === 'pending' || h.state === 'staging' || h.state === 'staged');
            const staged = waiting.flatMap((h) => (h.newTask ? [h.newTask] : []));
            if (staged.length > 0) await deps.dispatcher.setDesired(w, staged, TaskState.SHUTDOWN);
            await repo.updateHosts(w.tx, id, waiting.map((h) => ({ machineId: h.machineId, state: 'skipped' })));
            await repo.update(w.tx, id, { finished: true, holds: false });
            await change('rolled-back', `rolled back by ${actor.name}`);
          }
          return { id: (await rollbackOf(w, d, `asked by ${actor.name}`)).id, created: true };
        }
        return { id, created: false };
      });
      return { view: await detail(out.id), created: out.created };
    },

    /** Follow a deployment's changes (live views); returns what stops it. */
    follow(id: number, fn: () => void): () => void {
      let set = listeners.get(id);
      if (!set) listeners.set(id, (set = new Set()));
      set.add(fn);
      return () => {
        set.delete(fn);
        if (set.size === 0) listeners.delete(id);
      };
    },

    /** One host's log in a deployment: its new task's output (staging progress, hooks). */
    async hostLog(actor: Actor, id: number, hostname: string): Promise<{ text: string }> {
      nodeOf(actor, await load(db, id), 'deploy.read');
      const m = machines.model.byHostname(hostname);
      const h = m ? (await repo.hosts(db, id)).find((x) => x.machineId === m.id) : undefined;
      if (!h) throw new NotFoundError('deployment host', `${hostname} in #${id}`);
      const out = h.newTask ? await repo.taskOutput(db, h.newTask) : undefined;
      return { text: out ? out.stdout + (out.stderr ? `\n${out.stderr}` : '') : '' };
    },

    /** Which version runs where under the node. */
    async running(actor: Actor, path: string): Promise<{ items: { hostname: string; version: string | null; state: string }[] }> {
      const list = await processes.list(actor, path);
      const tasks = await repo.tasks(db, list.flatMap((p) => (p.taskId ? [p.taskId] : [])));
      return { items: list.map((p) => ({ hostname: p.hostname, version: p.taskId ? (tasks.get(p.taskId)?.version ?? null) : null, state: p.state })) };
    },

    async policy(actor: Actor, path: string): Promise<{ requireApproval: boolean; inherited: boolean }> {
      return requiresApproval(db, auth.nodeFor(actor, 'deploy.read', path));
    },
    async setPolicy(actor: Actor, path: string, requireApproval: boolean | null): Promise<{ requireApproval: boolean; inherited: boolean }> {
      const node = auth.nodeFor(actor, 'deploy.approve', path);
      await writer.run(actor, async (w) => {
        await repo.putPolicy(w.tx, node.id, requireApproval, actor.name);
        w.audit({ operation: 'deploy.policy', targetKind: 'node', target: node.path, nodeId: node.id, nodePath: node.path, after: { requireApproval } });
      });
      return requiresApproval(db, node);
    },

    /** Versions the node's open process tasks run (retention never removes them). */
    inUse: (tx: Queryable, nodeId: number) => processes.openTasks(tx, nodeId).then((ts) => [...new Set(ts.map((t) => t.version).filter((v): v is string => v !== null))]),
  };
}

function mostCommon(xs: string[]): string | null {
  const n = new Map<string, number>();
  for (const x of xs) n.set(x, (n.get(x) ?? 0) + 1);
  return [...n.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
}
