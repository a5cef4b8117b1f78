/**
 * One supervised app (one `process` task): runs it, watches it, restarts it after a crash with
 * backoff (1 s doubling to 60 s by default) until it flaps, checks its health, and stops it
 * losslessly: drained first (the control center takes it out of discovery), in-flight connections
 * waited out, then the stop signal, then SIGKILL after the grace. Its record is saved on every
 * change, so a restarted agent adopts the running app by pid instead of starting a second one.
 */
import { backoffSeconds, isFlapping, nextHealth, recentRestarts, shouldRestart, type ProcessLive, type ProcessStateName, type ProcessTaskSpec } from '@canopy/core';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { establishedOn } from './drain.ts';
import { runCheck } from './health.ts';
import { alive, appPid, cwdOf, envOf, exitStatus, signalGroup, spawnRun, unrecordedRun } from './spawn.ts';

/** What the supervisor keeps of one program (its file in the state dir). */
export interface ProgramRecord {
  taskId: string;
  spec: ProcessTaskSpec;
  state: ProcessStateName;
  pid?: number | undefined;
  pidStart?: string | undefined;
  startedAt?: string | undefined;
  restarts: number;
  /** Restart times (ms) inside the flap window. */
  restartTimes: number[];
  /** Consecutive runs that did not stay up (the backoff's exponent). */
  attempt: number;
  /** When a pending restart is due (ms), in state `backoff`. */
  restartAt?: number | undefined;
  lastExit: { code: number | null; at: string } | null;
  message: string;
  /** The current run's health, kept so an adopting agent does not drain a healthy app while it re-checks. */
  health?: ProcessLive['health'] | undefined;
}

export interface ProgramDeps {
  exitPath: string;
  logDir: string;
  save(rec: ProgramRecord): void;
  /** A state changed; `drain`: the caller waits for it to be taken (the control center drains). */
  changed(live: ProcessLive, drain: boolean): Promise<void>;
  log(msg: string): void;
}

export type Program = ReturnType<typeof createProgram>;

/** A program over its record; call `begin()` for a new one, `resume()` after an agent restart. */
export function createProgram(rec: ProgramRecord, deps: ProgramDeps) {
  const spec = rec.spec;
  let health: ProcessLive['health'] = rec.health ?? (spec.health ? 'unknown' : 'none');
  const streak = { passes: 0, failures: 0 };
  let restartTimer: NodeJS.Timeout | undefined;
  let healthTimer: NodeJS.Timeout | undefined;
  let watchTimer: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;
  let ended: (() => void) | undefined;
  let app: number | undefined;
  let detached = false;

  const live = (): ProcessLive => ({
    taskId: rec.taskId,
    nodeId: spec.nodeId,
    generation: spec.generation,
    state: rec.state,
    pid: rec.pid === undefined ? null : (app ??= appPid(rec.pid)) ?? rec.pid,
    startedAt: rec.startedAt ?? null,
    restarts: rec.restarts,
    health,
    lastExit: rec.lastExit,
    message: rec.message.slice(0, 2000),
    at: new Date().toISOString(),
  });

  function set(state: ProcessStateName, message: string, drain = false): Promise<void> {
    rec.state = state;
    rec.message = message;
    rec.health = health;
    deps.save(rec);
    return deps.changed(live(), drain).catch((err: unknown) => deps.log(`${spec.service}: ${String(err)}`));
  }

  function start(): void {
    if (detached) return;
    rec.restartAt = undefined;
    app = undefined;
    health = spec.health ? 'unknown' : 'none';
    streak.passes = streak.failures = 0;
    const orphan = unrecordedRun(deps.exitPath);
    if (orphan) {
      // Started by an agent killed before it saved the pid: adopted, not started a second time.
      Object.assign(rec, { pid: orphan.pid, pidStart: orphan.pidStart, startedAt: rec.startedAt ?? new Date().toISOString() });
      void set(rec.state === 'running' ? 'running' : spec.health ? 'starting' : 'running', 'adopted a run the previous agent started but had not recorded');
      watch();
      if (spec.health) scheduleCheck(0);
      return;
    }
    try {
      const run = spawnRun(spec, deps.exitPath, deps.logDir);
      Object.assign(rec, { pid: run.pid, pidStart: run.pidStart, startedAt: new Date().toISOString() });
      run.child.once('exit', () => onExit());
    } catch (err) {
      rec.pid = undefined;
      void set('fatal', err instanceof Error ? err.message : String(err));
      return;
    }
    void set(spec.health ? 'starting' : 'running', spec.health ? 'started; waiting for the health check' : 'running');
    watch();
    if (spec.health) scheduleCheck(Math.min(spec.health.intervalSeconds, 0.5));
  }

  // The exit event covers runs this agent started; an adopted run is polled (the wrapper is not our child).
  function watch(): void {
    clearInterval(watchTimer);
    watchTimer = setInterval(() => {
      if (!alive(rec.pid, rec.pidStart)) onExit();
    }, 200);
    watchTimer.unref();
  }

  function scheduleCheck(seconds: number): void {
    clearTimeout(healthTimer);
    const check = spec.health;
    if (!check || detached) return;
    healthTimer = setTimeout(async () => {
      const pid = rec.pid;
      const failure = await runCheck(check, { cwd: cwdOf(spec), env: envOf(spec, '/root') });
      if (rec.pid !== pid || rec.pid === undefined || stopping) return;
      if (failure === undefined) Object.assign(streak, { passes: streak.passes + 1, failures: 0 });
      else Object.assign(streak, { passes: 0, failures: streak.failures + 1 });
      const next = nextHealth(health === 'none' ? 'unknown' : health, streak, check);
      if (next !== health) {
        health = next;
        if (next === 'healthy') void set('running', 'running; healthy');
        else void set(rec.state === 'starting' ? 'starting' : 'running', `health check failing: ${failure ?? ''}`);
      }
      scheduleCheck(check.intervalSeconds);
    }, seconds * 1000);
    healthTimer.unref();
  }

  function onExit(): void {
    if (rec.pid === undefined) return;
    clearInterval(watchTimer);
    clearTimeout(healthTimer);
    const code = exitStatus(deps.exitPath) ?? null;
    // The wrapper itself killed: make sure nothing of the run is left holding the ports.
    if (code === null) signalGroup(rec.pid, 'SIGKILL');
    const ranMs = rec.startedAt ? Date.now() - Date.parse(rec.startedAt) : 0;
    rec.pid = undefined;
    rec.pidStart = undefined;
    rec.lastExit = { code, at: new Date().toISOString() };
    health = spec.health ? 'unknown' : 'none';
    const wake = ended;
    ended = undefined;
    if (wake || stopping || detached) {
      deps.save(rec);
      wake?.();
      return;
    }
    if (ranMs >= spec.restart.resetAfterSeconds * 1000) rec.attempt = 0;
    const how = code === null ? 'was killed' : `exited with status ${code}`;
    if (!shouldRestart(spec.restart.policy, code ?? 137)) return void set('exited', `${how}; restart policy ${spec.restart.policy}`);
    const now = Date.now();
    rec.restartTimes = recentRestarts(spec.restart, rec.restartTimes, now);
    if (isFlapping(spec.restart, [...rec.restartTimes, now], now)) {
      deps.log(`${spec.service}: flapping, not restarting`);
      return void set('flapping', `${how}; restarted ${rec.restartTimes.length} times in ${spec.restart.flapWindowSeconds} s: flapping, not restarting`);
    }
    rec.attempt += 1;
    const delay = backoffSeconds(spec.restart, rec.attempt);
    if (delay === 0) {
      // No backoff: start again at once; the record says so with the new run (an agent dying
      // in between finds the old pid gone and restarts it on resume).
      rec.restarts += 1;
      rec.restartTimes.push(Date.now());
      start();
      return;
    }
    rec.restartAt = now + delay * 1000;
    void set('backoff', `${how}; restarting in ${delay} s`);
    armRestart();
  }

  function armRestart(): void {
    clearTimeout(restartTimer);
    restartTimer = setTimeout(() => {
      rec.restarts += 1;
      rec.restartTimes.push(Date.now());
      start();
    }, Math.max(0, (rec.restartAt ?? Date.now()) - Date.now()));
  }

  async function waitEnd(ms: number): Promise<boolean> {
    if (!alive(rec.pid, rec.pidStart)) {
      onExit(); // it ended between two polls: record the exit all the same
      return true;
    }
    const done = new Promise<void>((r) => (ended = r));
    const poll = setInterval(() => {
      if (!alive(rec.pid, rec.pidStart)) onExit();
    }, 50);
    const timeout = sleep(ms).then(() => false);
    const out = await Promise.race([done.then(() => true), timeout]);
    clearInterval(poll);
    return out;
  }

  const running = (pid: number) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return false;
    }
  };

  async function drainWait(): Promise<void> {
    const began = Date.now();
    const ports = spec.ports.map((p) => p.port);
    const least = Math.min(1000, spec.drainSeconds * 1000);
    while (Date.now() - began < spec.drainSeconds * 1000 && alive(rec.pid, rec.pidStart)) {
      if (Date.now() - began >= least && establishedOn(ports) === 0) return;
      await sleep(100);
    }
  }

  async function stopNow(reason: string): Promise<void> {
    clearTimeout(restartTimer);
    clearTimeout(healthTimer);
    if (!alive(rec.pid, rec.pidStart)) {
      if (rec.pid !== undefined) onExit();
      await set('stopped', `stopped: ${reason}`);
      return;
    }
    await set('draining', `draining: ${reason}`, true);
    await drainWait();
    await set('stopping', `stopping (${spec.stopSignal}): ${reason}`);
    const pid = rec.pid!;
    const appNow = app ?? appPid(pid);
    signalGroup(pid, spec.stopSignal);
    if (!(await waitEnd(spec.stopGraceSeconds * 1000))) {
      signalGroup(pid, 'SIGKILL');
      await waitEnd(10_000);
    }
    // The wrapper may end first (killed with the group): the app's ports are free only once it is gone too.
    for (let i = 0; i < 200 && appNow !== undefined && running(appNow); i++) await sleep(25);
    await set('stopped', `stopped: ${reason}`);
  }

  return {
    record: rec,
    live,
    /** Start the first run. */
    begin(): void {
      if (rec.pid === undefined && rec.state !== 'stopped') start();
    },
    /** Pick up where a previous agent left: adopt the run, or finish what it was doing. */
    resume(): void {
      if (rec.pid !== undefined && alive(rec.pid, rec.pidStart)) {
        watch();
        if (spec.health) scheduleCheck(0);
        void set(rec.state, `${rec.message} (adopted by a restarted agent)`.slice(0, 2000));
      } else if (rec.pid !== undefined) onExit();
      else if (rec.state === 'backoff') armRestart();
      else if (rec.state === 'starting' || rec.state === 'running') start(); // killed before the pid was saved: start() adopts that run
    },
    /** Drain, wait, signal, kill after the grace; resolves once it is stopped. Idempotent. */
    stop(reason: string): Promise<void> {
      stopping ??= stopNow(reason);
      return stopping;
    },
    /** True once nothing runs nor will (stopped, exited, flapping, fatal). */
    idle: () => rec.pid === undefined && rec.state !== 'backoff',
    /** Stop watching (the agent is stopping); the app keeps running. */
    detach(): void {
      detached = true;
      clearTimeout(restartTimer);
      clearTimeout(healthTimer);
      clearInterval(watchTimer);
    },
  };
}
