/**
 * The worker reconciles the task set the control center assigns with what runs here: one runner
 * per task walks it through its controller, step by step as `nextStep` says (SwarmKit's
 * exec.Do), saving each new status to the state dir before reporting it. A restarted agent loads
 * its tasks and resumes each from its saved status, so nothing finished is run again.
 */
import { afterStep, isTerminal, nextStep, TaskState, type TaskAssignment, type TaskOutcome, type TaskReport, type TaskStatus, type TaskStep } from '@canopy/core';
import { setTimeout as sleep } from 'node:timers/promises';
import { controllerFor, TaskError, type AgentSettings, type Controller } from './exec/index.ts';
import type { ControlCenter } from './exec/controller.ts';
import { outputTracker } from './output.ts';
import type { Reporter } from './reporter.ts';
import type { Storage, StoredTask } from './storage.ts';

interface Runner {
  stored: StoredTask;
  ctrl: Controller;
  /** Aborts an in-flight wait when the desired state changes. */
  waiting: AbortController | undefined;
  wake: () => void;
  live: ReturnType<typeof outputTracker> | undefined;
  done: Promise<void>;
}

export interface WorkerOptions {
  storage: Storage;
  reporter: Reporter;
  hostname: string;
  settings?: AgentSettings | undefined;
  /** The control center the session talks to, handed to controllers that download from it. */
  controlCenter?: ControlCenter | undefined;
  log?: (msg: string) => void;
}

export type Worker = ReturnType<typeof createWorker>;

/** Build the worker over the state dir; `resume()` starts the tasks it holds. */
export function createWorker(opts: WorkerOptions) {
  const { storage, reporter, hostname } = opts;
  const log = opts.log ?? (() => {});
  const runners = new Map<string, Runner>();
  let stopping = false;

  function report(stored: StoredTask, extra: Partial<TaskReport> = {}): void {
    const s = stored.status;
    reporter.push({
      taskId: stored.assignment.taskId,
      state: s.state,
      message: s.message,
      ...(s.error === undefined ? {} : { error: s.error }),
      ...(s.exitCode === undefined ? {} : { exitCode: s.exitCode }),
      at: new Date().toISOString(),
      ...extra,
    });
  }

  function finalOutput(r: Runner): Partial<TaskReport> {
    const src = r.ctrl.output?.();
    if (!src) return {};
    const { stdout, stderr, truncated } = outputTracker(src).final();
    return { stdout, stderr, ...(truncated > 0 ? { truncated } : {}) };
  }

  async function invoke(r: Runner, step: TaskStep): Promise<TaskOutcome> {
    if (step.do !== 'call') return { ok: true };
    try {
      if (step.op === 'wait') {
        r.waiting = new AbortController();
        const code = await r.ctrl.wait(r.waiting.signal);
        return { ok: true, exitCode: code };
      }
      await r.ctrl[step.op]();
      return { ok: true };
    } catch (err) {
      if (err instanceof TaskError) return { ok: false, error: err.message, temporary: err.temporary, exitCode: err.exitCode };
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    } finally {
      r.waiting = undefined;
    }
  }

  async function run(r: Runner): Promise<void> {
    let backoff = 100;
    for (;;) {
      if (stopping) return;
      const observed = r.stored.status.state;
      const step = nextStep(observed, r.stored.assignment.desired);
      if (step.do === 'nothing') {
        await new Promise<void>((resolve) => (r.wake = resolve));
        continue;
      }
      const outcome = await invoke(r, step);
      if (stopping) return;
      if (step.do === 'call' && step.op === 'remove') {
        storage.removeTask(r.stored.assignment.taskId);
        runners.delete(r.stored.assignment.taskId);
        return;
      }
      const next: TaskStatus | undefined = afterStep(observed, step, outcome);
      if (next === undefined) {
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 10_000);
        continue;
      }
      backoff = 100;
      const said = r.ctrl.message?.(next.state);
      r.stored.status = said === undefined ? next : { ...next, message: said };
      storage.saveTask(r.stored);
      if (isTerminal(next.state)) {
        flushLive(r);
        report(r.stored, finalOutput(r));
      } else {
        // The output written so far goes with the state: a release is never seen RUNNING ahead of
        // its postStart hook's output (the ticker would send it up to 100 ms later).
        report(r.stored, r.live?.live() ?? {});
      }
      log(`task ${r.stored.assignment.taskId}: ${next.message}${next.error ? ` (${next.error})` : ''}`);
    }
  }

  function trackerOf(r: Runner): ReturnType<typeof outputTracker> | undefined {
    const src = r.ctrl.output?.();
    return src && outputTracker(src);
  }

  function flushLive(r: Runner): void {
    const chunk = r.live?.live();
    if (chunk && !isTerminal(r.stored.status.state)) report(r.stored, chunk);
    r.live = undefined;
  }

  function launch(stored: StoredTask): void {
    const dir = storage.taskDir(stored.assignment.taskId);
    const r: Runner = {
      stored,
      ctrl: undefined as unknown as Controller,
      waiting: undefined,
      wake: () => {},
      live: undefined,
      done: Promise.resolve(),
    };
    r.ctrl = controllerFor({ task: stored, dir, storage, hostname, settings: opts.settings, controlCenter: opts.controlCenter, save: () => storage.saveTask(stored) });
    // Output goes out live in every state before the end, not only RUNNING: a release's staging
    // log is written while it is PREPARING, its hooks' while it is STARTING.
    if (!isTerminal(stored.status.state)) r.live = trackerOf(r);
    runners.set(stored.assignment.taskId, r);
    r.done = run(r).catch((err) => log(`task ${stored.assignment.taskId}: runner crashed: ${String(err)}`));
  }

  function setDesired(r: Runner, desired: TaskAssignment['desired']): void {
    if (r.stored.assignment.desired === desired) return;
    r.stored.assignment.desired = desired;
    storage.saveTask(r.stored);
    r.waiting?.abort();
    r.wake();
  }

  // Live output goes out with the reporter's rhythm.
  const ticker = setInterval(() => {
    for (const r of runners.values()) {
      const chunk = r.live?.live();
      if (chunk) report(r.stored, chunk);
    }
  }, 100);
  ticker.unref();

  return {
    /** Start the tasks saved in the state dir (after a restart). */
    resume(): void {
      for (const t of storage.loadTasks()) launch(t);
    },
    /** What the agent holds, for the session's hello. */
    held(): { taskId: string; state: TaskStatus['state'] }[] {
      return [...runners.values()].map((r) => ({ taskId: r.stored.assignment.taskId, state: r.stored.status.state }));
    },
    /** Apply an assignment message: new tasks start, known ones take the new desired state. */
    assign(full: boolean, tasks: TaskAssignment[], removed: string[]): void {
      const wanted = new Set<string>();
      for (const a of tasks) {
        wanted.add(a.taskId);
        const r = runners.get(a.taskId);
        if (r) setDesired(r, a.desired);
        else {
          const stored: StoredTask = { assignment: a, status: { state: TaskState.ASSIGNED, message: 'assigned' } };
          storage.saveTask(stored);
          launch(stored);
        }
      }
      const gone = full ? [...runners.keys()].filter((id) => !wanted.has(id)) : removed;
      for (const id of gone) {
        const r = runners.get(id);
        if (r) setDesired(r, TaskState.REMOVE);
      }
    },
    /** Re-send each held task's current status (a new session: the control center may have missed some). */
    reportAll(): void {
      for (const r of runners.values()) {
        if (isTerminal(r.stored.status.state)) report(r.stored, finalOutput(r));
        else report(r.stored);
      }
    },
    /** Stop runners (the tasks' processes go on; a restart resumes them). */
    async stop(): Promise<void> {
      stopping = true;
      clearInterval(ticker);
      for (const r of runners.values()) {
        r.waiting?.abort();
        r.wake();
      }
      await Promise.all([...runners.values()].map((r) => r.done));
    },
  };
}
