/**
 * Starting one run of a supervised app, detached so it outlives the agent: a small sh wrapper (the
 * process group leader) records its pid, runs the app with the output appended to the log files,
 * and records the app's exit status, so an agent that was away still learns how the run ended.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { ProcessTaskSpec } from '@canopy/core';
import { TaskError } from '../exec/controller.ts';
import { processStart } from '../exec/process.ts';
import { lookupUser } from '../exec/users.ts';
import { logFile } from './logs.ts';

// $0 is the exit file. The trap keeps the wrapper alive through a stop signal sent to the whole
// group, so it can still record the app's status; trapped signals reset to default on exec.
const WRAPPER = 'echo $$ > "$0.pid"; trap : TERM INT HUP QUIT USR1 USR2; "$@"; s=$?; echo $s > "$0.tmp" && mv "$0.tmp" "$0"';

export interface Run {
  pid: number;
  pidStart: string | undefined;
  child: ChildProcess;
}

/**
 * The working directory a run starts in. For a release unpacked from an artifact the controller
 * passes `release.dir` resolved to `releases/<version>` (never `current`), so a running app does
 * not see `current` move under it at the next switch.
 */
export const cwdOf = (spec: ProcessTaskSpec) => spec.cwd ?? spec.release?.dir ?? '/';

/** The environment a run (and its command health check) gets. */
export function envOf(spec: ProcessTaskSpec, home: string): Record<string, string> {
  return {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: 'C.UTF-8',
    HOME: home,
    USER: spec.user,
    LOGNAME: spec.user,
    CANOPY_SERVICE: spec.service,
    ...(spec.release ? { CANOPY_RELEASE: spec.release.version } : {}),
    ...(spec.release?.dir ? { CANOPY_RELEASE_DIR: spec.release.dir } : {}),
    ...spec.env,
  };
}

/** Start a run; `exitPath` is where the wrapper writes the status (its pid goes to `exitPath.pid`). */
export function spawnRun(spec: ProcessTaskSpec, exitPath: string, logs: string): Run {
  const cwd = cwdOf(spec);
  if (!existsSync(cwd)) throw new TaskError(`working directory ${cwd} does not exist`);
  const user = spec.user === 'root' ? undefined : lookupUser(spec.user);
  for (const f of [exitPath, `${exitPath}.pid`, `${exitPath}.tmp`]) rmSync(f, { force: true });
  const limits = spec.nofile === undefined ? [] : ['prlimit', `--nofile=${spec.nofile}:${spec.nofile}`, '--'];
  const drop = user ? ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--'] : [];
  const out = openSync(logFile(logs, 'stdout'), 'a', 0o600);
  const err = openSync(logFile(logs, 'stderr'), 'a', 0o600);
  try {
    const child = spawn('/bin/sh', ['-c', WRAPPER, exitPath, ...limits, ...drop, ...spec.argv], {
      detached: true,
      stdio: ['ignore', out, err],
      env: envOf(spec, user?.home ?? '/root'),
      cwd,
    });
    if (child.pid === undefined) throw new TaskError('could not start the process');
    child.unref();
    child.on('error', () => {}); // reported by the exit watcher
    return { pid: child.pid, pidStart: processStart(child.pid), child };
  } finally {
    closeSync(out);
    closeSync(err);
  }
}

/**
 * A run of `exitPath` that no record names: an agent killed between the spawn and saving the pid
 * leaves the wrapper running, and the wrapper wrote its pid beside the exit file. Checked by the
 * wrapper's own argv, so a reused pid is not taken for it.
 */
export function unrecordedRun(exitPath: string): { pid: number; pidStart: string } | undefined {
  try {
    const pid = Number(readFileSync(`${exitPath}.pid`, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0 || !readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(exitPath)) return undefined;
    const pidStart = processStart(pid);
    return pidStart !== undefined && alive(pid, pidStart) ? { pid, pidStart } : undefined;
  } catch {
    return undefined; // no pid file, or the process is gone
  }
}

/** Whether the run recorded as (pid, start) is still there (a zombie counts as gone). */
export function alive(pid: number | undefined, start: string | undefined): boolean {
  if (pid === undefined || start === undefined || processStart(pid) !== start) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The app under the wrapper `pid` (its first child), if it is running. */
export function appPid(pid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0];
    if (first) return Number(first);
  } catch {
    // No children file on this kernel: scan.
  }
  for (const d of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) return Number(d);
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined;
}

/** The status the wrapper recorded; undefined when it was killed before it could. */
export function exitStatus(exitPath: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(exitPath, 'utf8'), 10);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Send `signal` to the run's whole process group. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
