/**
 * The `process` task kind: a supervised app. `start` hands the task to the agent's supervisor
 * (which replaces an older task's app of the same node, drained) and the task stays RUNNING for as
 * long as the control center wants it supervised — crashes, restarts and health are the
 * supervisor's, reported on the `processes` push stream, not task states. `shutdown` stops the app
 * losslessly (drain, wait, signal, SIGKILL after the grace).
 *
 * A task whose release names an artifact is a deployment's (releases/): `prepare` stages it into
 * `releases/<version>` (pre-staging: desired READY stops there), `start` runs preStart, the older
 * app's preStop, switches `current`, starts the app from its release dir, waits until it is up and
 * healthy, runs postStart, then prunes old releases. All of that happens inside `start`, because a
 * task desired RUNNING is never `wait`ed on: RUNNING is reported only once postStart passed, which
 * is what a deployment counts as "this host is up".
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { TaskState, type ProcessTaskSpec } from '@canopy/core';
import { activePrograms, appsDirOf, hookOf, isUp, pruneReleases, releaseLayout, runHook, stageRelease, switchCurrent, taskLog, untilUp, type HookName, type TaskLog } from '../releases/index.ts';
import { supervisorAt } from '../supervisor/supervisor.ts';
import { TaskError, type Controller, type TaskContext } from './controller.ts';
import { lookupUser } from './users.ts';

/** The controller of one `process` task. */
export function superviseController(ctx: TaskContext, declared: ProcessTaskSpec): Controller {
  const taskId = ctx.task.assignment.taskId;
  const sup = () => supervisorAt(ctx.storage.dir);
  const log = taskLog(ctx.dir);
  const release = declared.release;
  const artifact = release?.artifact;
  const layout = artifact && release ? releaseLayout(appsDirOf(ctx.storage.dir, ctx.settings), declared.service) : undefined;
  // The spec the supervisor runs: an artifact's release dir resolved to releases/<version>.
  const spec: ProcessTaskSpec = layout && release ? { ...declared, release: { ...release, dir: layout.dirOf(release.version) } } : declared;
  const passed = (): string[] => ((ctx.task.data ??= {})['hooksPassed'] ??= []) as string[];

  // Hooks that passed are recorded, so a start resumed after an agent restart does not repeat them.
  async function hookOnce(name: HookName): Promise<void> {
    const run = hookOf(spec, name, log);
    if (!run || passed().includes(name)) return;
    await runHook(name, run);
    passed().push(name);
    ctx.save();
  }

  // A preStop that fails is written to the log; the stop goes on (it is lossless either way).
  async function preStop(of: ProcessTaskSpec, whose: string): Promise<void> {
    try {
      const run = hookOf(of, 'preStop', log);
      if (run) await runHook('preStop', run);
    } catch (err) {
      log.say(`${whose}: ${(err as Error).message}; stopping it anyway`);
    }
  }

  const wantedRunning = () => ctx.task.assignment.desired < TaskState.SHUTDOWN;

  return {
    async prepare() {
      const user = spec.user === 'root' ? undefined : lookupUser(spec.user); // a fatal TaskError naming the user
      if (artifact && spec.release?.dir) {
        await stageRelease({ artifact, dir: spec.release.dir, controlCenter: ctx.controlCenter, cacheDir: join(ctx.storage.dir, 'artifacts'), log });
      }
      const cwd = spec.cwd ?? spec.release?.dir;
      if (cwd !== undefined && !existsSync(cwd)) throw new TaskError(`working directory ${cwd} does not exist`);
      if (cwd !== undefined && user && !canEnter(user, cwd)) throw new TaskError(`user ${spec.user} cannot enter ${cwd}${layout ? ' (set the agent\'s --apps-dir to a directory it can reach)' : ''}`);
    },

    async start() {
      await hookOnce('preStart');
      for (const old of activePrograms(sup(), spec.nodeId)) {
        if (old.taskId !== taskId && isUp(old.live)) await preStop(old.spec, `the running generation ${old.spec.generation}`);
      }
      if (layout && release) {
        // A start resumed after an agent restart finds `current` switched already, and says so.
        const was = switchCurrent(layout, release.version);
        const wasVersion = was && basename(was);
        log.say(wasVersion === release.version ? `current is releases/${release.version} already` : `current -> releases/${release.version}${wasVersion ? ` (was ${wasVersion})` : ''}`);
      }
      const live = await sup().ensure(taskId, spec);
      if (live.state === 'fatal') throw new TaskError(live.message);
      if (!spec.hooks?.postStart && !layout) return;
      const up = await untilUp(sup(), taskId, wantedRunning);
      log.say(`the process runs (pid ${up.pid ?? '?'})${up.health === 'healthy' ? ' and is healthy' : ''}`);
      try {
        await hookOnce('postStart');
      } catch (err) {
        await sup().stop(taskId, 'its postStart hook failed');
        throw err;
      }
      if (layout && release) prune(log, () => pruneReleases(layout, { keep: release.keep, cacheDir: join(ctx.storage.dir, 'artifacts'), inUse: inUse() }));
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
      // Replaced by a newer task's start, the app is stopped already, its preStop run there.
      if (isUp(sup().get(taskId))) await preStop(spec, 'this generation');
      await sup().stop(taskId, 'the task was shut down');
    },

    async remove() {
      await sup().forget(taskId);
    },

    message(state) {
      if (state === TaskState.READY && layout && release) return `release ${release.version} staged in ${spec.release?.dir}`;
      if (state !== TaskState.RUNNING) return undefined;
      const live = sup().get(taskId);
      const of = release ? `release ${release.version} ` : '';
      return live ? `${of}supervised: ${live.state}${live.pid ? `, pid ${live.pid}` : ''}` : `${of}supervised`;
    },

    output: () => log,
  };

  function inUse(): string[] {
    return activePrograms(sup(), spec.nodeId).flatMap((p) => (p.spec.release?.dir ? [p.spec.release.dir] : []));
  }
}

// Pruning is housekeeping: a failure is logged, the switch stands.
function prune(log: TaskLog, run: () => string[]): void {
  try {
    const gone = run();
    if (gone.length > 0) log.say(`removed old releases: ${gone.join(', ')}`);
  } catch (err) {
    log.say(`could not remove old releases: ${(err as Error).message}`);
  }
}

/** Whether `user` may enter `dir` (every parent searchable), asked as that user. */
function canEnter(user: { uid: number; gid: number }, dir: string): boolean {
  const r = spawnSync('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', 'test', '-x', dir], { stdio: 'ignore' });
  return r.status === 0;
}
