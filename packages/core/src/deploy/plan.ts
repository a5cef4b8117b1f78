/**
 * What a deployment does next, as pure code (like jobs/plan.ts): from the deployment, its hosts
 * and the states of their process tasks, which hosts move, which tasks are created or get a new
 * desired state, and where the deployment goes. A deployment is SwarmKit's rolling update of a
 * global service: every host first stages the new release (its new process task held at READY:
 * downloaded, verified, unpacked), so a bad artifact or a full disk stops it before any host
 * changed; then batch by batch the old process stops and the new one starts (or the reverse), each
 * batch watched for the monitor window. A host in the middle of its switch always finishes it, so a
 * pause or stop never leaves one half-switched. The orchestrator runs this after every change and
 * at `wakeAt`; deciding from what it is given alone, running it twice does nothing twice.
 */
import { isTerminal, TaskState, type TaskStateValue } from '../tasks/states.ts';
import type { DeployStrategy } from './strategy.ts';

export const DEPLOY_STATES = ['awaiting-approval', 'staging', 'running', 'paused', 'stopping', 'stopped', 'succeeded', 'failed', 'rolled-back'] as const;
export type DeployState = (typeof DEPLOY_STATES)[number];
/** The states a deployment ends in. */
export const FINISHED_DEPLOY_STATES: readonly DeployState[] = ['stopped', 'succeeded', 'failed', 'rolled-back'];

/**
 * pending → staging → staged → (stop-first) stopping-old → starting → updated
 *                            → (start-first) starting → retiring-old → updated
 * and failed (staging refused, the new process failed or was not healthy in time) or skipped (stopped before its turn).
 */
export type DeployHostState = 'pending' | 'staging' | 'staged' | 'stopping-old' | 'starting' | 'retiring-old' | 'updated' | 'failed' | 'skipped';

export interface PlanDeployment {
  state: DeployState;
  strategy: DeployStrategy;
  batches: number[];
  currentBatch: number;
  /** When every host of the current batch was up (its monitor window began), epoch ms. */
  batchUpAt: number | null;
  canaryPassed: boolean;
  /** This deployment is itself a rollback: a failure pauses it, it never rolls back again. */
  isRollback: boolean;
  /**
   * The service's answers counted (from its Nginx access logs) since the current batch was up, and
   * its SLO target; absent when nothing counts them.
   */
  availability?: { total: number; failed: number; target: number } | null | undefined;
}

export interface PlanDeployHost {
  machineId: number;
  batch: number;
  state: DeployHostState;
  /** State of the process task the host ran before (null: none, a first deployment). */
  oldTask: TaskStateValue | null;
  /** State of the host's new process task (null: not created yet). */
  newTask: TaskStateValue | null;
  /** When the host entered its state, epoch ms. */
  since: number;
  /** Why the new task failed, as its agent said (a refused artifact, a hook's exit). */
  error?: string | null | undefined;
}

export interface DeployPlan {
  hosts: { machineId: number; state: DeployHostState; reason?: string }[];
  /** Create the new process task, desired READY (stage the release). */
  stage: number[];
  /** Set the new task's desired state to RUNNING. */
  start: number[];
  /** Set the old task's desired state to SHUTDOWN (the agent drains it first). */
  stopOld: number[];
  /** Set the new task's desired state to SHUTDOWN (staged but never started: a stopped deployment). */
  drop: number[];
  deployment: { state?: DeployState; pausedBecause?: string | null; currentBatch?: number; batchUpAt?: number | null; canaryPassed?: boolean; finished?: boolean };
  /** Start a deployment of the previous version (the failure action said rollback). */
  rollback: boolean;
  /** Plan again at this time even if nothing changes (monitor window, delay, canary wait, health timeout). */
  wakeAt: number | null;
}

const IN_FLIGHT: ReadonlySet<DeployHostState> = new Set(['stopping-old', 'starting', 'retiring-old']);
const gone = (s: TaskStateValue | null) => s === null || isTerminal(s);
const failedTask = (s: TaskStateValue | null) => s !== null && isTerminal(s);
const because = (h: PlanDeployHost, why: string) => (h.error ? `${why}: ${h.error}` : why);
/**
 * A release its agent has not even accepted this long after it was handed out (an agent away, a
 * machine down) fails staging, so the deployment pauses with the reason instead of waiting for it
 * forever. Accepting is immediate for a connected agent; downloading may take as long as it needs.
 */
export const UNTAKEN_STAGE_MS = 120_000;
/** Fewer answers than this in a monitor window say nothing about the service's availability. */
export const SLO_CHECK_MIN_REQUESTS = 100;
/** A host the deployment found on its version already: nothing to stage, switch or watch. */
const untouched = (h: PlanDeployHost) => h.newTask === null && h.state === 'updated';

/** The next step of `dep` over `input` at `now`. */
export function planDeployment(dep: PlanDeployment, input: PlanDeployHost[], now: number): DeployPlan {
  const plan: DeployPlan = { hosts: [], stage: [], start: [], stopOld: [], drop: [], deployment: {}, rollback: false, wakeAt: null };
  const hosts = input.map((h) => ({ ...h }));
  const set = (h: PlanDeployHost, state: DeployHostState, reason?: string) => {
    h.state = state;
    h.since = now;
    plan.hosts.push(reason === undefined ? { machineId: h.machineId, state } : { machineId: h.machineId, state, reason });
  };
  const wake = (at: number) => {
    plan.wakeAt = plan.wakeAt === null ? at : Math.min(plan.wakeAt, at);
  };
  const s = dep.strategy;
  const monitorUntil = (dep.batchUpAt ?? now) + s.monitorSeconds * 1000;

  // What the agents did since the last step. Hosts in flight move on whatever the deployment's state.
  for (const h of hosts) {
    if (h.state === 'staging') {
      if (h.newTask === TaskState.READY) set(h, 'staged');
      else if (failedTask(h.newTask)) set(h, 'failed', because(h, 'the release could not be staged'));
      else if ((h.newTask ?? TaskState.NEW) < TaskState.ACCEPTED) {
        if (now - h.since < UNTAKEN_STAGE_MS) wake(h.since + UNTAKEN_STAGE_MS);
        else {
          plan.drop.push(h.machineId);
          set(h, 'failed', `its agent did not take the release within ${UNTAKEN_STAGE_MS / 1000} s: is it connected?`);
        }
      }
    } else if (h.state === 'stopping-old') {
      if (gone(h.oldTask)) {
        set(h, 'starting');
        plan.start.push(h.machineId);
      }
    } else if (h.state === 'starting') {
      if (failedTask(h.newTask)) set(h, 'failed', because(h, 'the new process failed'));
      else if (h.newTask === TaskState.RUNNING) {
        if (s.order === 'start-first' && !gone(h.oldTask)) {
          set(h, 'retiring-old');
          plan.stopOld.push(h.machineId);
        } else set(h, 'updated');
      } else if (now - h.since >= s.healthTimeoutSeconds * 1000) set(h, 'failed', `not healthy within ${s.healthTimeoutSeconds} s`);
      else wake(h.since + s.healthTimeoutSeconds * 1000);
    } else if (h.state === 'retiring-old') {
      if (gone(h.oldTask)) set(h, 'updated');
    } else if (h.state === 'updated' && h.batch === dep.currentBatch && dep.batchUpAt !== null && now < monitorUntil && failedTask(h.newTask)) {
      set(h, 'failed', because(h, 'the new process failed during the monitor window'));
    }
  }

  // Hosts whose turn never came: their staged releases are dropped, they keep what they run.
  const skipWaiting = () => {
    for (const h of hosts) {
      if (h.state !== 'pending' && h.state !== 'staging' && h.state !== 'staged') continue;
      if (h.newTask !== null && !gone(h.newTask)) plan.drop.push(h.machineId);
      set(h, 'skipped');
    }
  };

  if (dep.state === 'stopping') {
    if (hosts.some((h) => IN_FLIGHT.has(h.state))) return plan;
    skipWaiting();
    plan.deployment = { state: 'stopped', pausedBecause: null, finished: true };
    return plan;
  }

  if (dep.state === 'staging') {
    for (const h of hosts) {
      if (h.state !== 'pending') continue;
      plan.stage.push(h.machineId);
      set(h, 'staging');
    }
    const refused = hosts.filter((h) => h.state === 'failed');
    const first = refused.find((h) => h.error)?.error ?? plan.hosts.find((p) => p.state === 'failed' && p.reason)?.reason;
    if (refused.length > 0) plan.deployment = { state: 'paused', pausedBecause: `staging failed on ${refused.length} of ${hosts.length} hosts${first ? ` (${first})` : ''}: no host was changed` };
    else if (hosts.every((h) => h.state === 'staged' || untouched(h))) plan.deployment = { state: 'running', currentBatch: 0, batchUpAt: null };
    else return plan;
    if (plan.deployment.state === 'paused') return plan;
  } else if (dep.state !== 'running') return plan;

  // Running: the failure budget first, then the current batch.
  const failure = (why: string) => {
    if (s.failureAction === 'rollback' && !dep.isRollback) {
      plan.deployment = { ...plan.deployment, state: 'rolled-back', pausedBecause: why, finished: true };
      plan.rollback = true;
      skipWaiting();
    } else plan.deployment = { ...plan.deployment, state: 'paused', pausedBecause: why };
    return plan;
  };
  const failed = hosts.filter((h) => h.state === 'failed').length;
  if (failed > 0 && failed / hosts.length > s.maxFailureRatio) return failure(`${failed} of ${hosts.length} hosts failed (max failure ratio ${s.maxFailureRatio})`);

  let current = plan.deployment.currentBatch ?? dep.currentBatch;
  let upAt = plan.deployment.batchUpAt === undefined ? dep.batchUpAt : plan.deployment.batchUpAt;
  for (;;) {
    const batch = hosts.filter((h) => h.batch === current);
    for (const h of batch) {
      if (h.state !== 'staged') continue;
      if (s.order === 'stop-first' && !gone(h.oldTask)) {
        set(h, 'stopping-old');
        plan.stopOld.push(h.machineId);
      } else {
        set(h, 'starting');
        plan.start.push(h.machineId);
      }
    }
    if (!batch.every((h) => h.state === 'updated' || h.state === 'failed')) break;
    if (upAt === null) upAt = now;
    const last = current >= dep.batches.length - 1;
    // A batch that changed nothing is not watched, and the wait before the next one is not spent on it.
    const idle = batch.every(untouched);
    const watched = idle ? upAt : upAt + s.monitorSeconds * 1000;
    if (now < watched) {
      wake(watched);
      break;
    }
    // The window is over: what the service answered in it must meet its SLO.
    const a = dep.availability;
    if (!idle && s.monitorSeconds > 0 && s.availabilityCheck !== false && a && a.total >= SLO_CHECK_MIN_REQUESTS && a.total - a.failed < a.target * a.total) {
      const pct = (x: number) => `${(100 * x).toFixed(2).replace(/\.?0+$/, '')} %`;
      return failure(`availability ${pct((a.total - a.failed) / a.total)} in the monitor window of batch ${current + 1} (${a.failed} of ${a.total} answers failed) is below the SLO of ${pct(a.target)}`);
    }
    if (last) {
      plan.deployment = { ...plan.deployment, state: 'succeeded', pausedBecause: null, currentBatch: current, batchUpAt: upAt, finished: true };
      return plan;
    }
    if (current === 0 && s.canary !== false && !dep.canaryPassed) {
      if (s.canary.waitSeconds === undefined) {
        plan.deployment = { ...plan.deployment, state: 'paused', pausedBecause: 'canary: the first host is up; resume to go on', currentBatch: current, batchUpAt: upAt };
        return plan;
      }
      const until = watched + s.canary.waitSeconds * 1000;
      if (now < until) {
        wake(until);
        break;
      }
      plan.deployment.canaryPassed = true;
    }
    const next = idle ? watched : watched + s.delaySeconds * 1000;
    if (now < next) {
      wake(next);
      break;
    }
    current++;
    upAt = null;
  }
  if (current !== dep.currentBatch) plan.deployment.currentBatch = current;
  if (upAt !== dep.batchUpAt) plan.deployment.batchUpAt = upAt;
  return plan;
}
