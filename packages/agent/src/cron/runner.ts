/**
 * One run of a cron entry. The command runs detached in its own process group under the same small
 * sh wrapper the exec controller uses, which records its pid and exit status in the run's folder:
 * a timeout signals the whole group, and an agent restarted mid-run adopts a command still running
 * (same pid and start time) or reads the status of one that ended while it was away.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CronSpec } from '@canopy/core';
import { processStart } from '../exec/process.ts';
import { lookupUser } from '../exec/users.ts';
import { outputTracker } from '../output.ts';

const WRAPPER = 'echo $$ > "$0.pid"; trap : TERM INT HUP; "$@"; s=$?; echo $s > "$0.tmp" && mv "$0.tmp" "$0"';
const POLL_MS = 100;

/** How a run ended. */
export interface RunEnd {
  state: 'succeeded' | 'failed' | 'timed-out' | 'lost';
  exitCode: number | null;
  reason: string | null;
  stdout: string;
  stderr: string;
  truncated: number;
}

/** What the journal keeps to find a run again after a restart. */
export interface RunHandle {
  pid: number;
  pidStart: string | undefined;
  startedAt: string;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** The runs' folders under the agent's state dir. */
export function runPaths(runsDir: string, id: string) {
  const dir = join(runsDir, id);
  return { dir, exit: join(dir, 'exit'), script: join(dir, 'script.sh'), stdout: join(dir, 'stdout'), stderr: join(dir, 'stderr') };
}

/** Start `spec` for run `id`; throws (with a reason worth reporting) when it cannot start. */
export function startRun(runsDir: string, id: string, spec: CronSpec, env: Record<string, string>): RunHandle {
  const p = runPaths(runsDir, id);
  mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  const user = spec.user === 'root' ? undefined : lookupUser(spec.user);
  if (spec.script !== undefined) writeFileSync(p.script, spec.script, { mode: 0o755 });
  const argv = spec.argv ?? ['/bin/sh', p.script];
  const cmd = user ? ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', ...argv] : argv;
  const out = openSync(p.stdout, 'a', 0o600);
  const err = openSync(p.stderr, 'a', 0o600);
  try {
    const child = spawn('/bin/sh', ['-c', WRAPPER, p.exit, ...cmd], {
      detached: true,
      stdio: ['ignore', out, err],
      cwd: user?.home && existsSync(user.home) ? user.home : '/',
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: user?.home ?? '/root', USER: spec.user, LOGNAME: spec.user, ...env, ...spec.env },
    });
    if (child.pid === undefined) throw new Error('could not start the command');
    child.on('error', () => {}); // reported through the missing exit file
    child.unref();
    return { pid: child.pid, pidStart: processStart(child.pid), startedAt: new Date().toISOString() };
  } finally {
    closeSync(out);
    closeSync(err);
  }
}

/**
 * Wait for the run to end (also one started by an earlier agent process), enforcing the timeout
 * from its start; resolves with how it ended, output read back from its files.
 */
export function waitRun(runsDir: string, id: string, spec: CronSpec, h: RunHandle): { done: Promise<RunEnd>; cancel(): void } {
  const p = runPaths(runsDir, id);
  let timedOut = false;
  let stopped = false;
  let poll: NodeJS.Timeout | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const alive = () => h.pidStart !== undefined && processStart(h.pid) === h.pidStart;
  const left = Date.parse(h.startedAt) + spec.timeoutSeconds * 1000 - Date.now();
  const timeout = setTimeout(() => {
    timedOut = true;
    signalGroup(h.pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(h.pid, 'SIGKILL'), spec.killGraceSeconds * 1000);
  }, Math.max(0, left));
  const done = new Promise<RunEnd>((resolve) => {
    const check = () => {
      if (stopped) return;
      const exited = existsSync(p.exit);
      if (!exited && alive()) {
        poll = setTimeout(check, POLL_MS);
        return;
      }
      clearTimeout(timeout);
      clearTimeout(killTimer);
      // A group member may outlive the wrapper (a daemonised child): a timed-out run takes it down too.
      if (timedOut) signalGroup(h.pid, 'SIGKILL');
      const status = exited ? Number.parseInt(readFileSync(p.exit, 'utf8'), 10) : null;
      const output = outputTracker({ stdoutPath: p.stdout, stderrPath: p.stderr, limitBytes: spec.outputLimitBytes }).final();
      const base = { exitCode: status, ...output };
      if (timedOut) resolve({ ...base, state: 'timed-out', reason: `timed out after ${spec.timeoutSeconds} s` });
      else if (status === null) resolve({ ...base, state: 'lost', reason: 'the command ended while the agent was away; its exit status is unknown' });
      else if (status === 0) resolve({ ...base, state: 'succeeded', reason: null });
      else resolve({ ...base, state: 'failed', reason: `exit status ${status}` });
    };
    check();
  });
  return {
    done,
    cancel() {
      stopped = true;
      clearTimeout(poll);
      clearTimeout(timeout);
      clearTimeout(killTimer);
    },
  };
}

/** The handle of a run spawned by an agent that died before recording it (its wrapper wrote the pid). */
export function spawned(runsDir: string, id: string, startedAt: string | null): RunHandle | undefined {
  try {
    const pid = Number.parseInt(readFileSync(`${runPaths(runsDir, id).exit}.pid`, 'utf8'), 10);
    return Number.isInteger(pid) ? { pid, pidStart: processStart(pid) ?? 'gone', startedAt: startedAt ?? new Date().toISOString() } : undefined;
  } catch {
    return undefined;
  }
}

/** Forget a run's folder once its end is in the journal. */
export function removeRun(runsDir: string, id: string): void {
  rmSync(runPaths(runsDir, id).dir, { recursive: true, force: true });
}
