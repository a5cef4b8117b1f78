/** The one interface every task kind's controller implements (SwarmKit's exec.Controller). */
import type { Storage, StoredTask } from '../storage.ts';

/** A controller operation's failure; `temporary` retries, `exitCode` is the task's own exit. */
export class TaskError extends Error {
  readonly temporary: boolean;
  readonly exitCode: number | undefined;
  constructor(message: string, opts: { temporary?: boolean; exitCode?: number | undefined } = {}) {
    super(message);
    this.temporary = opts.temporary ?? false;
    this.exitCode = opts.exitCode;
  }
}

/** What a controller may use. */
export interface TaskContext {
  readonly task: StoredTask;
  /** The task's own folder in the state dir. */
  readonly dir: string;
  readonly storage: Storage;
  /** Persist `task` (after changing its pid, times…). */
  save(): void;
  /** The agent's hostname, as the control center knows it. */
  readonly hostname: string;
}

/** Drives one task through its kind's work; every method may be called again after a restart. */
export interface Controller {
  prepare(): Promise<void>;
  start(): Promise<void>;
  /**
   * Resolves with the exit code when the work ended well; throws TaskError otherwise. `signal` aborts
   * the wait (not the work) when the desired state changes, with a temporary error.
   */
  wait(signal: AbortSignal): Promise<number | undefined>;
  shutdown(): Promise<void>;
  remove(): Promise<void>;
  /** Output produced so far, for live reports (optional: kinds without output omit it). */
  output?(): OutputSource | undefined;
}

/** Where a task's stdout and stderr can be read. */
export interface OutputSource {
  stdoutPath: string;
  stderrPath: string;
  limitBytes: number;
}

export type ControllerFactory = (ctx: TaskContext) => Controller;
