/**
 * The task lifecycle as pure code, after SwarmKit's `exec.Do`: given the observed state and the
 * desired one, `nextStep` says what the agent does next (move on, call one controller operation,
 * or nothing), and `afterCall` turns that operation's outcome into the next status. The agent runs
 * the loop; the control center merges the reports with `mergeReport`.
 *
 * Where this differs from SwarmKit, on purpose:
 * - A state at or above the desired one does nothing (SwarmKit moves a READY task desired READY on
 *   to STARTING).
 * - A fatal error at STARTING itself is FAILED (SwarmKit keeps the task in STARTING with the error,
 *   which leaves it hanging); before STARTING it is REJECTED, as in SwarmKit.
 * - Desired REMOVE shuts an unfinished task down first, then calls the controller's remove.
 */
import { TaskState, isTerminal, type TaskStateValue } from './states.ts';

/** A controller operation, one per step of the lifecycle. */
export type TaskOperation = 'prepare' | 'start' | 'wait' | 'shutdown' | 'remove';

/** What the agent does next for one task. */
export type TaskStep =
  | { readonly do: 'nothing' }
  | { readonly do: 'advance'; readonly to: TaskStateValue; readonly message: string }
  | { readonly do: 'call'; readonly op: TaskOperation; readonly to: TaskStateValue; readonly message: string };

/** How a controller operation ended. */
export type TaskOutcome =
  | { readonly ok: true; readonly exitCode?: number | undefined }
  /** `temporary`: retry later, the state stays; `exitCode`: the task's own process ended badly. */
  | { readonly ok: false; readonly error: string; readonly temporary?: boolean | undefined; readonly exitCode?: number | undefined };

/** A task's observed status as the agent reports it. */
export interface TaskStatus {
  readonly state: TaskStateValue;
  readonly message: string;
  readonly error?: string | undefined;
  readonly exitCode?: number | undefined;
}

const NOTHING: TaskStep = Object.freeze({ do: 'nothing' });

/** The next step for a task observed in `observed` whose control center wants `desired`. */
export function nextStep(observed: TaskStateValue, desired: TaskStateValue): TaskStep {
  if (desired >= TaskState.REMOVE) {
    if (!isTerminal(observed)) return { do: 'call', op: 'shutdown', to: TaskState.SHUTDOWN, message: 'shutdown for removal' };
    return { do: 'call', op: 'remove', to: observed, message: 'removed' };
  }
  if (desired === TaskState.SHUTDOWN) {
    if (isTerminal(observed)) return NOTHING;
    return { do: 'call', op: 'shutdown', to: TaskState.SHUTDOWN, message: 'shutdown requested' };
  }
  if (observed >= desired || isTerminal(observed)) return NOTHING;
  switch (observed) {
    case TaskState.NEW:
    case TaskState.PENDING:
    case TaskState.ASSIGNED:
      return { do: 'advance', to: TaskState.ACCEPTED, message: 'accepted' };
    case TaskState.ACCEPTED:
      return { do: 'advance', to: TaskState.PREPARING, message: 'preparing' };
    case TaskState.PREPARING:
      return { do: 'call', op: 'prepare', to: TaskState.READY, message: 'prepared' };
    case TaskState.READY:
      return { do: 'advance', to: TaskState.STARTING, message: 'starting' };
    case TaskState.STARTING:
      return { do: 'call', op: 'start', to: TaskState.RUNNING, message: 'started' };
    case TaskState.RUNNING:
      return { do: 'call', op: 'wait', to: TaskState.COMPLETE, message: 'finished' };
    default:
      return NOTHING;
  }
}

/**
 * The status after `step` ran from `observed` and ended with `outcome`; `undefined` means stay where
 * the task is and try again later (a temporary error).
 */
export function afterStep(observed: TaskStateValue, step: TaskStep, outcome: TaskOutcome): TaskStatus | undefined {
  if (step.do === 'nothing') return undefined;
  if (step.do === 'advance') return { state: step.to, message: step.message };
  if (outcome.ok) {
    return { state: step.to, message: step.message, ...(outcome.exitCode === undefined ? {} : { exitCode: outcome.exitCode }) };
  }
  if (outcome.temporary) return undefined;
  if (step.op === 'remove') return { state: observed, message: 'remove failed', error: outcome.error };
  if (step.op === 'wait' && outcome.exitCode !== undefined) {
    return { state: TaskState.FAILED, message: 'failed', error: outcome.error, exitCode: outcome.exitCode };
  }
  return { state: observed < TaskState.STARTING ? TaskState.REJECTED : TaskState.FAILED, message: `${step.op} failed`, error: outcome.error };
}

/** Whether a reported status may replace the stored one: only a move forward counts. */
export function mergeReport(stored: TaskStateValue, reported: TaskStateValue): boolean {
  return reported > stored;
}

/** The state the control center records for a task whose machine stayed away past the grace. */
export function orphanedState(observed: TaskStateValue): TaskStateValue | undefined {
  return isTerminal(observed) ? undefined : TaskState.ORPHANED;
}
