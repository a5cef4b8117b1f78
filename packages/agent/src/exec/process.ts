/**
 * A command run to its end, surviving the agent: the process runs detached in its own process
 * group under a small sh wrapper that records its pid and exit status in the task's folder, with
 * stdout and stderr going to files. An agent killed with -9 and restarted finds it still running
 * (same pid and start time) or finished (exit file), and never starts it a second time.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecSpec } from '@canopy/core';
import { TaskError, type Controller, type TaskContext } from './controller.ts';
import { lookupUser } from './users.ts';

// $0 is the exit file. The trap keeps the wrapper alive through a TERM sent to the whole group, so
// it can still record the command's status; handlers (unlike ignored signals) reset on exec.
// It writes its pid first, so an agent that died between spawning it and saving the pid adopts it.
const WRAPPER = 'echo $$ > "$0.pid"; trap : TERM INT HUP; "$@"; s=$?; echo $s > "$0.tmp" && mv "$0.tmp" "$0"';

/** Start time of `pid` in clock ticks since boot, from /proc; undefined when it is gone. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function runningAsRecorded(pid: number | undefined, start: string | undefined): boolean {
  return pid !== undefined && start !== undefined && processStart(pid) === start;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** A controller running `spec` (a command or a script) as a process. */
export function processController(ctx: TaskContext, spec: ExecSpec): Controller {
  const { task, dir } = ctx;
  const paths = {
    exit: join(dir, 'exit'),
    script: join(dir, 'script.sh'),
    stdout: join(dir, 'stdout'),
    stderr: join(dir, 'stderr'),
  };
  let timer: NodeJS.Timeout | undefined;

  const argv = (): string[] => (spec.argv ? spec.argv : ['/bin/sh', paths.script]);

  async function stop(reason: string): Promise<void> {
    const pid = task.pid;
    if (!runningAsRecorded(pid, task.pidStart) || pid === undefined) return;
    task.killedBecause = reason;
    ctx.save();
    signalGroup(pid, 'SIGTERM');
    const deadline = Date.now() + spec.killGraceSeconds * 1000;
    while (Date.now() < deadline && runningAsRecorded(pid, task.pidStart) && !existsSync(paths.exit)) await sleep(50);
    if (runningAsRecorded(pid, task.pidStart)) signalGroup(pid, 'SIGKILL');
  }

  function armTimeout(): void {
    const started = task.startedAt ? Date.parse(task.startedAt) : Date.now();
    const left = started + spec.timeoutSeconds * 1000 - Date.now();
    timer = setTimeout(() => void stop(`timed out after ${spec.timeoutSeconds} s`), Math.max(0, left));
    timer.unref();
  }

  return {
    async prepare() {
      if (spec.user !== 'root') lookupUser(spec.user); // throws a fatal TaskError naming the user
      if (spec.script !== undefined) writeFileSync(paths.script, spec.script, { mode: 0o755 });
    },

    async start() {
      if (task.pid !== undefined) return; // started before a restart: never twice
      if (existsSync(`${paths.exit}.pid`)) {
        // Spawned just before the agent died, pid not yet saved: adopt it.
        task.pid = Number.parseInt(readFileSync(`${paths.exit}.pid`, 'utf8'), 10);
        task.pidStart = processStart(task.pid) ?? 'gone';
        ctx.save();
        return;
      }
      const user = spec.user === 'root' ? undefined : lookupUser(spec.user);
      const out = openSync(paths.stdout, 'a', 0o600);
      const err = openSync(paths.stderr, 'a', 0o600);
      const cmd = user ? ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', ...argv()] : argv();
      const env = {
        PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        LANG: 'C.UTF-8',
        HOME: user?.home ?? '/root',
        USER: spec.user,
        LOGNAME: spec.user,
        ...spec.env,
      };
      try {
        const child = spawn('/bin/sh', ['-c', WRAPPER, paths.exit, ...cmd], { detached: true, stdio: ['ignore', out, err], env, cwd: user?.home && existsSync(user.home) ? user.home : '/' });
        const pid = child.pid;
        if (pid === undefined) throw new TaskError('could not start the command');
        child.unref();
        task.pid = pid;
        task.pidStart = processStart(pid);
        task.startedAt = new Date().toISOString();
        ctx.save();
      } finally {
        closeSync(out);
        closeSync(err);
      }
    },

    async wait(signal) {
      armTimeout();
      try {
        while (!existsSync(paths.exit) && runningAsRecorded(task.pid, task.pidStart)) {
          if (signal.aborted) throw new TaskError('wait interrupted', { temporary: true });
          await sleep(50);
        }
      } finally {
        clearTimeout(timer);
      }
      task.finishedAt = new Date().toISOString();
      ctx.save();
      const status = existsSync(paths.exit) ? Number.parseInt(readFileSync(paths.exit, 'utf8'), 10) : undefined;
      if (task.killedBecause) throw new TaskError(task.killedBecause, { exitCode: status ?? 137 });
      if (status === undefined) throw new TaskError('the process ended while the agent was away; its exit status is unknown');
      if (!spec.okExitCodes.includes(status)) throw new TaskError(`exit status ${status}`, { exitCode: status });
      return status;
    },

    async shutdown() {
      await stop('stopped');
    },

    async remove() {
      clearTimeout(timer);
    },

    output: () => ({ stdoutPath: paths.stdout, stderrPath: paths.stderr, limitBytes: spec.outputLimitBytes }),
  };
}
