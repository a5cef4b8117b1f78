/**
 * The `process` task kind: a supervised app. `start` hands the task to the agent's supervisor
 * (which replaces an older task's app of the same node, drained) and the task stays RUNNING for as
 * long as the control center wants it supervised — crashes, restarts and health are the
 * supervisor's, reported on the `processes` push stream, not task states. `shutdown` stops the app
 * losslessly (drain, wait, signal, SIGKILL after the grace).
 */
import { existsSync } from 'node:fs';
import { TaskState, type ProcessTaskSpec } from '@canopy/core';
import { supervisorAt } from '../supervisor/supervisor.ts';
import { TaskError, type Controller, type TaskContext } from './controller.ts';
import { lookupUser } from './users.ts';

/** The controller of one `process` task. */
export function superviseController(ctx: TaskContext, spec: ProcessTaskSpec): Controller {
  const taskId = ctx.task.assignment.taskId;
  const sup = () => supervisorAt(ctx.storage.dir);

  return {
    async prepare() {
      if (spec.user !== 'root') lookupUser(spec.user); // a fatal TaskError naming the user
      const cwd = spec.cwd ?? spec.release?.dir;
      if (cwd !== undefined && !existsSync(cwd)) throw new TaskError(`working directory ${cwd} does not exist`);
    },

    async start() {
      const live = await sup().ensure(taskId, spec);
      if (live.state === 'fatal') throw new TaskError(live.message);
    },

    async wait(signal) {
      // Desired RUNNING never waits; a task desired COMPLETE ends when its app has ended for good.
      while (!signal.aborted) {
        const live = sup().get(taskId);
        if (!live || live.state === 'exited') return live?.lastExit?.code ?? 0;
        if (live.state === 'flapping' || live.state === 'fatal') throw new TaskError(live.message, { exitCode: live.lastExit?.code ?? undefined });
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new TaskError('wait interrupted', { temporary: true });
    },

    async shutdown() {
      await sup().stop(taskId, 'the task was shut down');
    },

    async remove() {
      await sup().forget(taskId);
    },

    message(state) {
      if (state !== TaskState.RUNNING) return undefined;
      const live = sup().get(taskId);
      return live ? `supervised: ${live.state}${live.pid ? `, pid ${live.pid}` : ''}` : 'supervised';
    },
  };
}
