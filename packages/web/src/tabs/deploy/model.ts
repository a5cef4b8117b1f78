/**
 * The Deploy tab's pure parts, tested without a browser: the strategy form and the API body it
 * becomes (and back, to start from the last deployment's strategy), the figures of the batch
 * progress bars, which buttons a deployment's state allows, and the colours and words of states.
 */
import { batchSizeProblem, FINISHED_DEPLOY_STATES, planBatches, type CreateDeploymentInput, type DeployAction, type DeploymentDetailView, type DeploymentHostView, type DeploymentView, type DeployState, type DeployStrategy } from '@canopy/core';

export type { DeployAction, DeploymentDetailView, DeploymentHostView, DeploymentView, DeployState, DeployStrategy };
export type DeployHostState = DeploymentHostView['state'];

/** `GET /nodes/{path}/deploy/running`: which version runs on which host. */
export interface RunningVersion {
  hostname: string;
  version: string | null;
  state: string;
}

/** `GET /nodes/{path}/deploy-policy`. */
export interface DeployPolicyView {
  requireApproval: boolean;
  inherited: boolean;
}

/** What the deploy dialog holds; numbers as antd's InputNumber gives them (null when cleared). */
export interface DeployFormValues {
  version: string;
  reason?: string;
  /** `2`, `25%` or `5 *2`. */
  batch: string;
  canary: 'off' | 'resume' | 'timed';
  canaryWaitSeconds?: number | null;
  order: DeployStrategy['order'];
  failureAction: DeployStrategy['failureAction'];
  /** The max failure ratio as a percentage, 0–100. */
  maxFailurePercent: number | null;
  monitorSeconds: number | null;
  /** The SLO check of each monitor window. */
  availabilityCheck: boolean;
  delaySeconds: number | null;
  healthTimeoutSeconds: number | null;
}

const DEFAULTS: DeployStrategy = { batch: 1, canary: false, order: 'stop-first', failureAction: 'pause', maxFailureRatio: 0, monitorSeconds: 5, availabilityCheck: true, delaySeconds: 0, healthTimeoutSeconds: 300 };

/** The form's fields for `s` (the defaults when absent), for a new deployment of no version yet. */
export function formOf(s: DeployStrategy = DEFAULTS): Omit<DeployFormValues, 'version'> {
  return {
    batch: String(s.batch),
    canary: s.canary === false ? 'off' : s.canary.waitSeconds === undefined ? 'resume' : 'timed',
    canaryWaitSeconds: s.canary === false ? null : (s.canary.waitSeconds ?? null),
    order: s.order,
    failureAction: s.failureAction,
    // Rounded so 0.1 reads 10, not 10.000000000000002.
    maxFailurePercent: Math.round(s.maxFailureRatio * 10_000) / 100,
    monitorSeconds: s.monitorSeconds,
    // Strategies stored before the check existed lack the field: it is on by default.
    availabilityCheck: s.availabilityCheck ?? true,
    delaySeconds: s.delaySeconds,
    healthTimeoutSeconds: s.healthTimeoutSeconds,
  };
}

/** Why the batch field is not a batch size ("must be a count…"), or undefined. */
export function batchProblem(text: string): string | undefined {
  return text.trim() === '' ? 'give a batch size' : batchSizeProblem(text.trim());
}

const orDefault = (v: number | null | undefined, d: number): number => (v === null || v === undefined ? d : v);

/** The strategy body of the form; a plain count goes as a number, as the CLI sends it. */
export function strategyOf(v: Omit<DeployFormValues, 'version'>): DeployStrategy {
  const batch = v.batch.trim();
  let canary: DeployStrategy['canary'] = false;
  if (v.canary === 'resume') canary = {};
  else if (v.canary === 'timed') canary = { waitSeconds: orDefault(v.canaryWaitSeconds, 60) };
  return {
    batch: /^\d+$/.test(batch) ? Number(batch) : batch,
    canary,
    order: v.order,
    failureAction: v.failureAction,
    maxFailureRatio: orDefault(v.maxFailurePercent, 0) / 100,
    monitorSeconds: orDefault(v.monitorSeconds, DEFAULTS.monitorSeconds),
    availabilityCheck: v.availabilityCheck,
    delaySeconds: orDefault(v.delaySeconds, DEFAULTS.delaySeconds),
    healthTimeoutSeconds: orDefault(v.healthTimeoutSeconds, DEFAULTS.healthTimeoutSeconds),
  };
}

/** `POST /deployments` body of the form; an empty reason is left out. */
export function deployInputOf(nodePath: string, v: DeployFormValues): CreateDeploymentInput {
  const reason = v.reason?.trim();
  return { nodePath, version: v.version, strategy: strategyOf(v), ...(reason ? { reason } : {}) };
}

const STRATEGY_FIELD: Record<string, keyof DeployFormValues> = { batch: 'batch', order: 'order', failureAction: 'failureAction', maxFailureRatio: 'maxFailurePercent', monitorSeconds: 'monitorSeconds', delaySeconds: 'delaySeconds', healthTimeoutSeconds: 'healthTimeoutSeconds' };

/** The dialog field a server issue path (body location already removed) is about, or undefined. */
export function formFieldOf(path: (string | number)[]): keyof DeployFormValues | undefined {
  const [first, second, third] = path.map(String);
  if (first === 'version' || first === 'reason') return first;
  if (first !== 'strategy' || second === undefined) return undefined;
  if (second === 'canary') return third === 'waitSeconds' ? 'canaryWaitSeconds' : 'canary';
  return STRATEGY_FIELD[second];
}

/** The batch sizes the form gives over `hosts` hosts ("1, 2, 4"), or undefined while the batch is invalid. */
export function batchPreview(v: Pick<DeployFormValues, 'batch' | 'canary'>, hosts: number): number[] | undefined {
  if (batchProblem(v.batch ?? '') !== undefined) return undefined;
  const batch = v.batch.trim();
  return planBatches(hosts, /^\d+$/.test(batch) ? Number(batch) : batch, v.canary !== 'off');
}

/** The strategy in one line, for the deployment's header and the history. */
export function strategyText(s: DeployStrategy): string {
  const batch = typeof s.batch === 'string' && /[*+]/.test(s.batch) ? `batches growing ${s.batch}` : `batches of ${s.batch}`;
  const canary = s.canary === false ? '' : s.canary.waitSeconds === undefined ? ', canary waits for a resume' : `, canary watched ${s.canary.waitSeconds} s`;
  const failure = `on failure ${s.failureAction}${s.maxFailureRatio > 0 ? ` (beyond ${Math.round(s.maxFailureRatio * 10_000) / 100}% failed)` : ''}`;
  return `${batch}${canary}, ${s.order}, ${failure}, monitor ${s.monitorSeconds} s, delay ${s.delaySeconds} s, health timeout ${s.healthTimeoutSeconds} s`;
}

/** True once a deployment can change no more (its live feed ends then). */
export function isFinished(state: DeployState): boolean {
  return FINISHED_DEPLOY_STATES.includes(state);
}

// Hosts whose old or new process is being switched right now.
const SWITCHING: ReadonlySet<DeployHostState> = new Set(['stopping-old', 'starting', 'retiring-old']);

/** True while the host's task log may still grow (the tab re-reads it then). */
export function hostBusy(state: DeployHostState): boolean {
  return state === 'staging' || SWITCHING.has(state);
}

/** One segment of the batch progress bar. */
export interface BatchFigures {
  index: number;
  size: number;
  updated: number;
  failed: number;
  inFlight: number;
  /** Pending, staging or staged: not switched yet. */
  waiting: number;
  skipped: number;
  /** done: every host updated or failed; current: the batch being switched; later: not begun. */
  phase: 'done' | 'current' | 'later';
}

/** The figures of every batch of `d`, from its hosts. */
export function batchFigures(d: Pick<DeploymentDetailView, 'batches' | 'currentBatch' | 'state' | 'hosts'>): BatchFigures[] {
  return d.batches.map((size, index) => {
    const hosts = d.hosts.filter((h) => h.batch === index);
    const count = (pred: (s: DeployHostState) => boolean) => hosts.filter((h) => pred(h.state)).length;
    const f = { index, size, updated: count((s) => s === 'updated'), failed: count((s) => s === 'failed'), inFlight: count((s) => SWITCHING.has(s)), skipped: count((s) => s === 'skipped'), waiting: count((s) => s === 'pending' || s === 'staging' || s === 'staged') };
    const settled = f.updated + f.failed + f.skipped === size && size > 0;
    const begun = d.state !== 'staging' && d.state !== 'awaiting-approval' && index <= d.currentBatch;
    return { ...f, phase: settled ? 'done' : begun && !isFinished(d.state) ? 'current' : 'later' };
  });
}

/** Percentages for one antd Progress: `percent` covers updated and failed, `success` the updated part. */
export function percents(f: Pick<BatchFigures, 'size' | 'updated' | 'failed'>): { percent: number; success: number } {
  if (f.size === 0) return { percent: 0, success: 0 };
  return { percent: Math.round(((f.updated + f.failed) / f.size) * 100), success: Math.round((f.updated / f.size) * 100) };
}

/** The buttons a deployment in `state` offers, before access and the previous version are considered. */
export function actionsFor(state: DeployState): DeployAction[] {
  switch (state) {
    case 'awaiting-approval':
      return ['approve', 'stop'];
    case 'staging':
    case 'running':
      return ['pause', 'stop'];
    case 'paused':
      return ['resume', 'stop', 'rollback'];
    case 'stopped':
    case 'succeeded':
    case 'failed':
      return ['rollback'];
    case 'stopping':
    case 'rolled-back':
      return [];
  }
}

/** The buttons the caller may press on `d`: approving needs deploy.approve, the rest deploy.run; a rollback needs a previous version. */
export function allowedActions(d: Pick<DeploymentView, 'state' | 'previousVersion' | 'rolledBackBy'>, can: (op: string) => boolean): DeployAction[] {
  return actionsFor(d.state).filter((a) => {
    if (a === 'rollback' && (d.previousVersion === null || d.rolledBackBy !== null)) return false;
    return can(a === 'approve' ? 'deploy.approve' : 'deploy.run');
  });
}

export const DEPLOY_STATE_COLOR: Record<DeployState, string> = {
  'awaiting-approval': 'gold',
  staging: 'processing',
  running: 'processing',
  paused: 'warning',
  stopping: 'orange',
  stopped: 'default',
  succeeded: 'success',
  failed: 'error',
  'rolled-back': 'purple',
};

export const HOST_STATE_COLOR: Record<DeployHostState, string> = {
  pending: 'default',
  staging: 'processing',
  staged: 'cyan',
  'stopping-old': 'gold',
  starting: 'blue',
  'retiring-old': 'gold',
  updated: 'success',
  failed: 'error',
  skipped: 'default',
};

/** A state as words: `awaiting-approval` → `awaiting approval`. */
export function stateLabel(state: DeployState | DeployHostState): string {
  return state.replaceAll('-', ' ');
}
