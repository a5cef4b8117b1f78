/**
 * What a job does next, as pure code: given the job and its hosts (with their tasks' states), which
 * hosts change state, which get a task now, and where the job goes. The orchestrator runs it in a
 * transaction under the write lock after every change, on any replica; since it reads everything
 * from the database and decides from that alone, running it twice does nothing twice.
 */
import { TaskState, type JobHostState, type JobState } from '@canopy/core';

export interface PlanJob {
  state: JobState;
  batches: number[];
  currentBatch: number;
  tolerance: number;
  parallelism: number | undefined;
  canary: boolean;
  canaryPassed: boolean;
}

export interface PlanHost {
  machineId: number;
  batch: number;
  state: JobHostState;
  taskState: number | null;
}

export interface Plan {
  hosts: { machineId: number; state: JobHostState }[];
  dispatch: number[];
  job: { state?: JobState; pausedBecause?: string | null; currentBatch?: number; finished?: boolean };
}

/**
 * Most tasks one step dispatches. A batch of 10,000 goes out in steps of this many, each its own
 * short write: the first agents get their tasks while the rest are still being written, and no
 * single write holds the lock for seconds.
 */
export const MAX_DISPATCH_PER_STEP = 1000;

const FINISHED: ReadonlySet<JobHostState> = new Set(['succeeded', 'failed', 'stopped', 'skipped']);

/** The host state a finished task gives. */
export function hostStateOf(taskState: number): JobHostState | undefined {
  if (taskState < TaskState.COMPLETE) return undefined;
  if (taskState === TaskState.COMPLETE) return 'succeeded';
  if (taskState === TaskState.SHUTDOWN) return 'stopped';
  return 'failed';
}

/** The next step of `job` over `hosts`. */
export function planJob(job: PlanJob, input: PlanHost[]): Plan {
  const plan: Plan = { hosts: [], dispatch: [], job: {} };
  const hosts = input.map((h) => ({ ...h }));
  for (const h of hosts) {
    const done = h.state === 'running' && h.taskState !== null ? hostStateOf(h.taskState) : undefined;
    if (done) {
      h.state = done;
      plan.hosts.push({ machineId: h.machineId, state: done });
    }
  }
  const running = (b?: number) => hosts.filter((h) => h.state === 'running' && (b === undefined || h.batch === b)).length;

  if (job.state === 'stopping') {
    if (running() === 0) {
      for (const h of hosts.filter((x) => x.state === 'pending')) plan.hosts.push({ machineId: h.machineId, state: 'skipped' });
      plan.job = { state: 'stopped', pausedBecause: null, finished: true };
    }
    return plan;
  }
  if (job.state !== 'running') return plan;

  const failed = hosts.filter((h) => h.state === 'failed').length;
  const more = hosts.some((h) => h.state === 'pending');
  if (failed > job.tolerance && more) {
    plan.job = { state: 'paused', pausedBecause: `${failed} hosts failed, more than the tolerance of ${job.tolerance}` };
    return plan;
  }

  let current = job.currentBatch;
  for (;;) {
    const inBatch = hosts.filter((h) => h.batch === current);
    if (!inBatch.every((h) => FINISHED.has(h.state))) break;
    const last = current >= job.batches.length - 1;
    if (current === 0 && job.canary && !job.canaryPassed && !last) {
      plan.job = { state: 'paused', pausedBecause: 'canary: the first host is done; resume to go on', currentBatch: current };
      return plan;
    }
    if (last) {
      plan.job = { state: failed > 0 ? 'failed' : 'succeeded', pausedBecause: null, currentBatch: current, finished: true };
      return plan;
    }
    current++;
  }
  if (current !== job.currentBatch) plan.job.currentBatch = current;

  const slots = (job.parallelism ?? Number.POSITIVE_INFINITY) - running(current);
  const pending = hosts.filter((h) => h.batch === current && h.state === 'pending');
  for (const h of pending.slice(0, Math.max(0, Math.min(slots, MAX_DISPATCH_PER_STEP)))) {
    plan.dispatch.push(h.machineId);
    h.state = 'running';
  }
  return plan;
}
