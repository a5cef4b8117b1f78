/**
 * Batch jobs: a command, script or initialisation run over the machines of a subtree, a list of
 * hosts or a label selector, in batches, as one task per machine. The orchestrator (`advance`) runs
 * after every change to a job's tasks, on whichever replica hears of it, and decides from the
 * database alone (plan.ts) under the write lock, so nothing is dispatched twice.
 */
import { isDeepStrictEqual } from 'node:util';
import { ConflictError, ExecSpec, NotFoundError, RebootSpec, ValidationError, isTerminal, planBatches, TaskState, type CreateJobInput, type JobDetailView, type JobView, type Operation } from '@canopy/core';
import { SYSTEM_ACTOR, type Actor, type ChangeFeed, type WriteContext, type Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import type { AuthService } from '../auth/index.ts';
import type { MachineService } from '../machines/index.ts';
import type { TreeService } from '../tree/index.ts';
import { TASK_STATUS_TOPIC, type Dispatcher } from '../agents/index.ts';
import { DEFAULT_INIT, type InitCommands } from './init-commands.ts';
import { MAX_DISPATCH_PER_STEP, planJob } from './plan.ts';
import * as repo from './repo.ts';

export const JOB_TOPIC = 'job';
export { DEFAULT_INIT };

export type JobService = ReturnType<typeof createJobService>;

interface Target {
  nodeId: number | null;
  nodePath: string | null;
  machines: { id: number; hostname: string }[];
}

/** Build the job service and subscribe it to its tasks' progress. */
export function createJobService(deps: { writer: Writer; feed: ChangeFeed; db: Queryable; tree: TreeService; machines: MachineService; auth: AuthService; dispatcher: Dispatcher; initCommands?: InitCommands | undefined; onError?: ((err: unknown) => void) | undefined }) {
  const { writer, feed, db, tree, machines, auth, dispatcher, initCommands } = deps;
  const onError = deps.onError ?? (() => {});
  const queued = new Set<number>();
  const listeners = new Map<number, Set<() => void>>();

  feed.on(TASK_STATUS_TOPIC, (c) => {
    for (const t of (c.payload as { tasks: { ownerKind: string | null; ownerId: number | null }[] }).tasks) {
      if (t.ownerKind === 'job' && t.ownerId !== null) changed(Number(t.ownerId), true);
    }
  });
  feed.on(JOB_TOPIC, (c) => changed((c.payload as { id: number }).id, false));

  function changed(id: number, advanceToo: boolean): void {
    for (const l of listeners.get(id) ?? []) l();
    if (advanceToo) schedule(id);
  }

  // Feed handlers may run inside another write: advance after it, once per job however many reports came.
  function schedule(id: number): void {
    if (queued.has(id)) return;
    queued.add(id);
    setImmediate(() => {
      queued.delete(id);
      advance(id).catch(onError);
    });
  }

  function opFor(kind: CreateJobInput['kind'], user: string): Operation {
    if (kind === 'reboot') return 'machine.reboot';
    return kind === 'init' || user === 'root' ? 'machine.root' : 'machine.exec';
  }

  async function resolveTarget(actor: Actor, input: CreateJobInput, op: Operation): Promise<Target> {
    const t = input.target;
    let nodeId: number | null = null;
    let nodePath: string | null = null;
    let ids: number[];
    if (t.under !== undefined) {
      const node = auth.nodeFor(actor, op, t.under);
      nodeId = node.id;
      nodePath = node.path;
      ids = machines.model.query({ under: node.id }, 1_000_000, undefined).ids;
      if (t.hosts) {
        const named = new Set(t.hosts);
        ids = ids.filter((id) => named.has(machines.model.get(id)?.hostname ?? ''));
      }
      if (t.selector) ids = await repo.machinesMatching(db, ids, Object.fromEntries(t.selector.split(',').map((p) => p.split('=') as [string, string])));
    } else {
      ids = [];
      for (const [i, h] of (t.hosts ?? []).entries()) {
        const m = machines.model.byHostname(h);
        const nodes = m ? m.nodeIds.map((n) => tree.model.get(n)).filter((n) => n !== undefined) : [];
        const visible = nodes.filter((n) => auth.visible(actor, n));
        if (!m || (visible.length === 0 && !actor.superuser)) throw new ValidationError(`no machine '${h}'`, [{ path: ['target', 'hosts', i], message: `no machine '${h}'` }]);
        if (!actor.superuser && !nodes.some((n) => auth.can(actor, op, n.id))) {
          throw new ValidationError(`running this job on '${h}' needs ${op} on one of its nodes`, [{ path: ['target', 'hosts', i], message: `needs ${op}` }]);
        }
        ids.push(m.id);
      }
    }
    const list = [...new Set(ids)]
      .map((id) => machines.model.get(id))
      .filter((m) => m !== undefined && m.status !== 'retired')
      .map((m) => ({ id: m!.id, hostname: m!.hostname }))
      .sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
    if (list.length === 0) throw new ValidationError('the target names no machine', [{ path: ['target'], message: 'no machine matches' }]);
    return { nodeId, nodePath, machines: list };
  }

  function specOf(input: CreateJobInput): Record<string, unknown> {
    const common = { user: input.user, timeoutSeconds: input.timeoutSeconds };
    if (input.kind === 'reboot') {
      const r = RebootSpec.safeParse({ reason: input.description.slice(0, 200) });
      if (!r.success) throw new ValidationError('the description cannot be a reboot reason', [{ path: ['description'], message: r.error.issues[0]?.message ?? 'invalid' }]);
      return r.data;
    }
    if (input.kind === 'init' && input.command === undefined && input.script === undefined) return ExecSpec.parse({ ...DEFAULT_INIT, ...common, user: 'root' });
    const body = input.script !== undefined ? { script: input.script } : { argv: typeof input.command === 'string' ? ['/bin/sh', '-c', input.command] : input.command };
    return ExecSpec.parse({ ...body, ...common });
  }

  /**
   * An init job without a command of its own runs, on each machine, the command set on its node (or
   * inherited, or the default): the spec per machine, read in the job's transaction. Undefined for
   * other jobs.
   */
  async function initSpecs(w: WriteContext, input: CreateJobInput, target: Target): Promise<Map<number, Record<string, unknown>> | undefined> {
    if (input.kind !== 'init' || input.command !== undefined || input.script !== undefined || !initCommands) return undefined;
    const within = target.nodeId === null ? null : (tree.model.get(target.nodeId) ?? null);
    const list = target.machines.map((m) => ({ id: m.id, nodeIds: machines.model.get(m.id)?.nodeIds ?? [] }));
    const resolved = await initCommands.resolve(w.tx, list, within);
    const out = new Map<number, Record<string, unknown>>();
    for (const m of target.machines) {
      const { command } = resolved.get(m.id) ?? { command: DEFAULT_INIT };
      out.set(m.id, ExecSpec.parse({ ...command, user: 'root', timeoutSeconds: input.timeoutSeconds }));
    }
    return out;
  }

  // Jobs whose last step stopped at the dispatch cap, with the batch it was in: their next steps
  // only dispatch more of that batch (a few rows read, not every host) until it is all out.
  const capped = new Map<number, number>();

  /** The job's next step: more of a batch that stopped at the cap, or else a full plan. */
  async function advance(id: number): Promise<void> {
    const batch = capped.get(id);
    if (batch === undefined) return plan(id);
    capped.delete(id);
    await writer.run(SYSTEM_ACTOR, async (w) => {
      const job = await repo.job(w.tx, id, true);
      if (!job || job.state !== 'running' || job.currentBatch !== batch) return;
      const next = await repo.nextPending(w.tx, id, batch, job.batch.parallelism, MAX_DISPATCH_PER_STEP);
      if (next.length === 0) return;
      await dispatch(w, job, next);
      if (next.length === MAX_DISPATCH_PER_STEP) capped.set(id, batch);
      w.emit(JOB_TOPIC, { id });
    });
    schedule(id);
  }

  /** Give `hosts` their tasks, inside the step's write. */
  async function dispatch(w: WriteContext, job: repo.JobRow, hosts: { machineId: number; spec: Record<string, unknown> | null; attempt: number }[]): Promise<void> {
    const kind = job.kind === 'reboot' ? 'reboot' : 'exec';
    // A host's own spec (an init command resolved from its node) wins over the job's.
    const taskIds = await dispatcher.createTasks(w, hosts.map((h) => ({ machineId: h.machineId, kind, spec: h.spec ?? job.spec, ownerKind: 'job', ownerId: job.id })));
    await repo.setHosts(w.tx, job.id, hosts.map((h, i) => ({ machineId: h.machineId, state: 'running' as const, taskId: taskIds[i]!, attempt: h.attempt + 1 })));
  }

  /** Decide and do the job's next step in one write. */
  async function plan(id: number): Promise<void> {
    await writer.run(SYSTEM_ACTOR, async (w) => {
      const job = await repo.job(w.tx, id, true);
      if (!job || !['running', 'stopping'].includes(job.state)) return;
      const hosts = await repo.hosts(w.tx, id);
      const plan = planJob(
        { state: job.state, batches: job.batches, currentBatch: job.currentBatch, tolerance: job.batch.tolerance, parallelism: job.batch.parallelism, canary: job.batch.canary, canaryPassed: job.canaryPassed },
        hosts,
      );
      await repo.setHosts(w.tx, id, plan.hosts);
      if (plan.dispatch.length >= MAX_DISPATCH_PER_STEP) capped.set(id, plan.job.currentBatch ?? job.currentBatch);
      if (plan.dispatch.length > 0) {
        const byId = new Map(hosts.map((h) => [h.machineId, h]));
        await dispatch(w, job, plan.dispatch.map((machineId) => ({ machineId, spec: byId.get(machineId)?.spec ?? null, attempt: byId.get(machineId)?.attempt ?? 0 })));
      }
      if (Object.keys(plan.job).length > 0) {
        await repo.updateJob(w.tx, id, plan.job);
        if (plan.job.state && plan.job.state !== job.state) {
          w.audit({ operation: `job.${plan.job.state}`, targetKind: 'job', target: String(id), nodeId: job.nodeId, nodePath: job.nodePath, after: { state: plan.job.state, reason: plan.job.pausedBecause ?? null } });
        }
      }
      if (plan.hosts.length > 0 || plan.dispatch.length > 0 || Object.keys(plan.job).length > 0) w.emit(JOB_TOPIC, { id });
    });
    // The step stopped at its cap: the rest of the batch goes out in the next ones.
    if (capped.has(id)) schedule(id);
  }

  async function detail(id: number): Promise<JobDetailView> {
    const job = await repo.job(db, id);
    if (!job) throw new NotFoundError('job', String(id));
    const hosts = await repo.hosts(db, id, true);
    return { ...view(job, hosts), hosts: hosts.map(hostView), groups: groupsOf(hosts) };
  }

  async function control(actor: Actor, id: number, action: 'pause' | 'resume' | 'stop' | 'retry'): Promise<JobView> {
    await writer.run(actor, async (w) => {
      const job = await repo.job(w.tx, id, true);
      if (!job) throw new NotFoundError('job', String(id));
      const finished = ['stopped', 'succeeded', 'failed'].includes(job.state);
      if (action === 'pause') {
        if (job.state !== 'running') throw new ConflictError(`job ${id} is ${job.state}: only a running job can be paused`, { state: job.state });
        await repo.updateJob(w.tx, id, { state: 'paused', pausedBecause: `paused by ${actor.name}` });
      } else if (action === 'resume') {
        if (job.state !== 'paused') throw new ConflictError(`job ${id} is ${job.state}: only a paused job can be resumed`, { state: job.state });
        await repo.updateJob(w.tx, id, { state: 'running', pausedBecause: null, ...(job.batch.canary ? { canaryPassed: true } : {}) });
      } else if (action === 'stop') {
        if (finished || job.state === 'stopping') throw new ConflictError(`job ${id} is ${job.state}: there is nothing to stop`, { state: job.state });
        const hosts = await repo.hosts(w.tx, id);
        await dispatcher.setDesired(w, hosts.filter((h) => h.state === 'running' && h.taskId).map((h) => h.taskId!), TaskState.SHUTDOWN);
        await repo.updateJob(w.tx, id, { state: 'stopping', pausedBecause: null });
      } else {
        const hosts = await repo.hosts(w.tx, id);
        const failed = hosts.filter((h) => h.state === 'failed');
        if (failed.length === 0) throw new ConflictError(`job ${id} has no failed host to retry`, { state: job.state });
        if (job.state === 'stopping') throw new ConflictError(`job ${id} is stopping`, { state: job.state });
        for (const h of failed) await repo.setHost(w.tx, id, h.machineId, 'pending');
        await repo.updateJob(w.tx, id, { state: 'running', pausedBecause: null, currentBatch: Math.min(...failed.map((h) => h.batch)) });
      }
      w.audit({ operation: `job.${action}`, targetKind: 'job', target: String(id), nodeId: job.nodeId, nodePath: job.nodePath });
      w.emit(JOB_TOPIC, { id });
    });
    schedule(id);
    return view((await repo.job(db, id))!, await repo.hosts(db, id));
  }

  return {
    /** Create a job; its first batch is dispatched at once. */
    async create(actor: Actor, input: CreateJobInput): Promise<JobView> {
      const op = opFor(input.kind, input.user);
      const target = await resolveTarget(actor, input, op);
      let spec = specOf(input);
      const batches = planBatches(target.machines.length, input.batch.size, input.batch.canary);
      const job = await writer.run(actor, async (w: WriteContext) => {
        const perHost = await initSpecs(w, input, target);
        if (perHost) spec = perHost.get(target.machines[0]!.id)!;
        const j = await repo.insertJob(w.tx, {
          kind: input.kind, nodeId: target.nodeId, nodePath: target.nodePath, target: input.target, spec, batch: input.batch, batches, description: input.description, createdBy: actor.name,
        });
        let i = 0;
        const rows = batches.flatMap((n, b) => target.machines.slice(i, (i += n)).map((m) => {
          const own = perHost?.get(m.id);
          return { machineId: m.id, hostname: m.hostname, batch: b, spec: own && !isDeepStrictEqual(own, spec) ? own : null };
        }));
        await repo.insertHosts(w.tx, j.id, rows);
        w.audit({ operation: `job.create`, targetKind: 'job', target: String(j.id), nodeId: target.nodeId, nodePath: target.nodePath, after: { kind: input.kind, spec, target: input.target, batch: input.batch, hosts: rows.length, ...(perHost ? { hostsWithOwnSpec: rows.filter((r) => r.spec).length } : {}) } });
        return j;
      });
      await advance(job.id);
      return view((await repo.job(db, job.id))!, await repo.hosts(db, job.id));
    },
    detail,
    /** A job's node path, for authorizing reads and controls. */
    async nodePathOf(id: number): Promise<string | null> {
      const job = await repo.job(db, id);
      if (!job) throw new NotFoundError('job', String(id));
      return job.nodePath;
    },
    async list(opts: { underPath?: string | undefined; limit: number; before?: number | undefined }): Promise<JobView[]> {
      const jobs = await repo.listJobs(db, opts);
      return Promise.all(jobs.map(async (j) => view(j, await repo.hosts(db, j.id))));
    },
    pause: (actor: Actor, id: number) => control(actor, id, 'pause'),
    resume: (actor: Actor, id: number) => control(actor, id, 'resume'),
    stop: (actor: Actor, id: number) => control(actor, id, 'stop'),
    retry: (actor: Actor, id: number) => control(actor, id, 'retry'),
    /**
     * Skip hosts of an unfinished job: a pending host is not run, a running one is stopped, a failed
     * one no longer counts against the tolerance. Names outside the job, or hosts already done, are
     * refused and nothing changes.
     */
    async skip(actor: Actor, id: number, hostnames: string[]): Promise<JobView> {
      await writer.run(actor, async (w) => {
        const job = await repo.job(w.tx, id, true);
        if (!job) throw new NotFoundError('job', String(id));
        if (['stopped', 'succeeded', 'failed', 'stopping'].includes(job.state)) throw new ConflictError(`job ${id} is ${job.state}: there is nothing left to skip`, { state: job.state });
        const byName = new Map((await repo.hosts(w.tx, id)).map((h) => [h.hostname, h]));
        const unknown = hostnames.filter((n) => !byName.has(n));
        if (unknown.length > 0) throw new ValidationError(`not hosts of job ${id}: ${unknown.join(', ')}`, unknown.map((n) => ({ path: ['hosts', hostnames.indexOf(n)], message: `not a host of job ${id}` })));
        const chosen = [...new Set(hostnames)].map((n) => byName.get(n)!);
        const done = chosen.filter((h) => !['pending', 'running', 'failed'].includes(h.state));
        if (done.length > 0) throw new ConflictError(`already ${done.map((h) => `${h.hostname} ${h.state}`).join(', ')}: only pending, running or failed hosts can be skipped`, { state: job.state });
        await dispatcher.setDesired(w, chosen.filter((h) => h.state === 'running' && h.taskId).map((h) => h.taskId!), TaskState.SHUTDOWN);
        await repo.setHosts(w.tx, id, chosen.map((h) => ({ machineId: h.machineId, state: 'skipped' as const })));
        w.audit({ operation: 'job.skip', targetKind: 'job', target: String(id), nodeId: job.nodeId, nodePath: job.nodePath, after: { hosts: chosen.map((h) => ({ hostname: h.hostname, was: h.state })) } });
        w.emit(JOB_TOPIC, { id });
      });
      schedule(id);
      return view((await repo.job(db, id))!, await repo.hosts(db, id));
    },
    /** Call `fn` whenever job `id` or one of its tasks changes; returns the unsubscribe. */
    follow(id: number, fn: () => void): () => void {
      const set = listeners.get(id) ?? new Set();
      set.add(fn);
      listeners.set(id, set);
      return () => {
        set.delete(fn);
        if (set.size === 0) listeners.delete(id);
      };
    },
    /** Advance every job still going (after a restart the feed does not replay). */
    async start(): Promise<void> {
      for (const id of await repo.activeJobIds(db)) schedule(id);
    },
  };
}

function view(job: repo.JobRow, hosts: repo.JobHostRow[]): JobView {
  const counts: Record<string, number> = { total: hosts.length, pending: 0, running: 0, succeeded: 0, failed: 0, stopped: 0, skipped: 0 };
  for (const h of hosts) counts[h.state] = (counts[h.state] ?? 0) + 1;
  return {
    id: job.id, kind: job.kind, state: job.state, pausedBecause: job.pausedBecause, description: job.description,
    target: job.target, spec: job.spec, batch: job.batch, batches: job.batches, currentBatch: job.currentBatch, counts,
    createdBy: job.createdBy, createdAt: iso(job.createdAt)!, finishedAt: iso(job.finishedAt),
  };
}

function iso(t: string | Date | null): string | null {
  return t === null ? null : new Date(t).toISOString();
}

function hostView(h: repo.JobHostRow) {
  const started = iso(h.startedAt);
  const finished = iso(h.finishedAt);
  return {
    hostname: h.hostname, batch: h.batch, state: h.state, attempt: h.attempt, taskId: h.taskId,
    taskState: h.taskState === null ? null : stateLabel(h.taskState),
    exitCode: h.exitCode, error: h.error, startedAt: started, finishedAt: finished,
    durationMs: started && finished ? Date.parse(finished) - Date.parse(started) : null,
    downtimeSeconds: downtimeOf(h),
  };
}

/** A finished reboot's downtime, as its agent measured it (the reboot controller puts it in the message). */
function downtimeOf(h: repo.JobHostRow): number | null {
  if (h.taskState !== TaskState.COMPLETE || !h.message) return null;
  const m = /downtime (\d+(?:\.\d+)?) s/.exec(h.message);
  return m ? Number(m[1]) : null;
}

function stateLabel(v: number): string {
  const entry = Object.entries(TaskState).find(([, n]) => n === v);
  return entry ? entry[0] : String(v);
}

/** Hosts with the same outcome and output, largest group first. */
function groupsOf(hosts: repo.JobHostRow[]): JobDetailView['groups'] {
  const groups = new Map<string, JobDetailView['groups'][number]>();
  for (const h of hosts) {
    if (h.taskState === null || !isTerminal(h.taskState as never)) continue;
    const key = JSON.stringify([h.state, h.exitCode, h.stdout ?? '', h.stderr ?? '']);
    const g = groups.get(key) ?? { hosts: [], count: 0, exitCode: h.exitCode, state: h.state, stdout: h.stdout ?? '', stderr: h.stderr ?? '' };
    g.hosts.push(h.hostname);
    g.count++;
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}
