/**
 * Running one release hook (preStart, postStart, preStop): an argv, never a shell, as the process's
 * user with its environment, in the release's directory, in a process group of its own so a hook
 * that outlives `timeoutSeconds` is killed whole (SIGKILL to the group, children included). Its
 * output is appended to the task's log.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import type { ProcessTaskSpec } from '@canopy/core';
import { TaskError } from '../exec/controller.ts';
import { lookupUser } from '../exec/users.ts';
import { cwdOf, envOf } from '../supervisor/spawn.ts';
import type { TaskLog } from './log.ts';

export type HookName = 'preStart' | 'postStart' | 'preStop';

export interface HookRun {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** Drop to this user (undefined: run as the agent's). */
  user?: { uid: number; gid: number } | undefined;
  timeoutSeconds: number;
  log: TaskLog;
}

/** Run `hook`; resolves when it exited 0, else throws a fatal TaskError saying how it ended. */
export async function runHook(hook: HookName, run: HookRun): Promise<void> {
  if (!existsSync(run.cwd)) throw new TaskError(`${hook} hook: its directory ${run.cwd} does not exist`);
  run.log.say(`${hook} hook: ${JSON.stringify(run.argv)} in ${run.cwd}`);
  const drop = run.user ? ['setpriv', `--reuid=${run.user.uid}`, `--regid=${run.user.gid}`, '--init-groups', '--'] : [];
  const argv = [...drop, ...run.argv];
  const out = openSync(run.log.stdoutPath, 'a', 0o600);
  const err = openSync(run.log.stderrPath, 'a', 0o600);
  let timedOut = false;
  try {
    const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { cwd: run.cwd, env: run.env, detached: true, stdio: ['ignore', out, err] });
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }, run.timeoutSeconds * 1000);
      child.once('error', (error) => {
        clearTimeout(timer);
        resolve({ code: null, signal: null, error });
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        // A hook's leftovers (a daemon it forked) would outlive the switch holding its files: killed too.
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // Nothing left.
        }
        resolve({ code, signal });
      });
    });
    const how = timedOut
      ? `timed out after ${run.timeoutSeconds} s (killed)`
      : ended.error
        ? `could not start: ${ended.error.message}`
        : ended.code === 0
          ? undefined
          : ended.code === null
            ? `was killed by ${ended.signal}`
            : `exited with status ${ended.code}`;
    if (how !== undefined) {
      run.log.say(`${hook} hook ${how}`);
      throw new TaskError(`${hook} hook ${how}`, { exitCode: ended.code ?? undefined });
    }
    run.log.say(`${hook} hook passed`);
  } finally {
    closeSync(out);
    closeSync(err);
  }
}

/** `spec`'s hook `hook` as it runs for that process (its user, env, release dir), or undefined when it has none. */
export function hookOf(spec: ProcessTaskSpec, hook: HookName, log: TaskLog): HookRun | undefined {
  const argv = spec.hooks?.[hook];
  if (!argv) return undefined;
  const user = spec.user === 'root' ? undefined : lookupUser(spec.user);
  return {
    argv,
    cwd: spec.release?.dir ?? cwdOf(spec),
    env: envOf(spec, user?.home ?? '/root'),
    user,
    timeoutSeconds: spec.hooks?.timeoutSeconds ?? 60,
    log,
  };
}
