/**
 * Task states, SwarmKit's current set with its values (DESIGN.md §1). A task's observed state only
 * ever moves forward: every comparison below is on these numbers.
 */

export const TaskState = {
  NEW: 0,
  PENDING: 64,
  ASSIGNED: 192,
  ACCEPTED: 256,
  PREPARING: 320,
  READY: 384,
  STARTING: 448,
  RUNNING: 512,
  COMPLETE: 576,
  SHUTDOWN: 640,
  FAILED: 704,
  REJECTED: 768,
  REMOVE: 800,
  ORPHANED: 832,
} as const;

export type TaskStateName = keyof typeof TaskState;
export type TaskStateValue = (typeof TaskState)[TaskStateName];

export const TASK_STATE_NAMES = Object.keys(TaskState) as TaskStateName[];

const byValue = new Map<number, TaskStateName>(TASK_STATE_NAMES.map((n) => [TaskState[n], n]));

/** The name of a state value, e.g. 512 → 'RUNNING'. */
export function stateName(value: number): TaskStateName {
  const name = byValue.get(value);
  if (name === undefined) throw new RangeError(`not a task state: ${value}`);
  return name;
}

/** True for the states a task ends in: COMPLETE, SHUTDOWN, FAILED, REJECTED (and beyond). */
export function isTerminal(state: TaskStateValue): boolean {
  return state >= TaskState.COMPLETE;
}

/** The states a task ran to an end in, as opposed to one it was stopped or refused in. */
export function isSuccess(state: TaskStateValue): boolean {
  return state === TaskState.COMPLETE;
}

/** The desired states the control center may write. */
export const DESIRED_STATES = ['READY', 'RUNNING', 'COMPLETE', 'SHUTDOWN', 'REMOVE'] as const satisfies readonly TaskStateName[];
export type DesiredStateName = (typeof DESIRED_STATES)[number];
