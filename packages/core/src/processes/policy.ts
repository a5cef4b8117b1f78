/**
 * The supervisor's decisions as pure functions, so the agent, the console and the tests agree:
 * whether an exit is restarted, after how long, and when restarting has become flapping.
 */
import type { RestartPolicy } from './spec.ts';

/** Whether a process that exited with `code` (128+n for signal n) is started again under `policy`. */
export function shouldRestart(policy: RestartPolicy['policy'], code: number | undefined): boolean {
  if (policy === 'always') return true;
  if (policy === 'never') return false;
  return code !== 0;
}

/** Seconds to wait before restart number `attempt` (1-based): the first delay doubling, capped. */
export function backoffSeconds(r: Pick<RestartPolicy, 'backoffSeconds' | 'maxBackoffSeconds'>, attempt: number): number {
  const n = Math.max(1, Math.floor(attempt));
  return Math.min(r.maxBackoffSeconds, r.backoffSeconds * 2 ** Math.min(n - 1, 30));
}

/** True when the restarts at `times` (ms) hold more than `flapRestarts` inside the window ending at `now`. */
export function isFlapping(r: Pick<RestartPolicy, 'flapRestarts' | 'flapWindowSeconds'>, times: readonly number[], now: number): boolean {
  const since = now - r.flapWindowSeconds * 1000;
  return times.filter((t) => t > since).length > r.flapRestarts;
}

/** The restart times still inside the flap window (what a supervisor needs to keep). */
export function recentRestarts(r: Pick<RestartPolicy, 'flapWindowSeconds'>, times: readonly number[], now: number): number[] {
  const since = now - r.flapWindowSeconds * 1000;
  return times.filter((t) => t > since);
}

/** Health after one check result, with the thresholds applied to the consecutive run. */
export function nextHealth(
  current: 'unknown' | 'healthy' | 'unhealthy',
  streak: { passes: number; failures: number },
  t: { healthyThreshold: number; unhealthyThreshold: number },
): 'unknown' | 'healthy' | 'unhealthy' {
  if (streak.passes >= t.healthyThreshold) return 'healthy';
  // Before it was ever healthy a process is not "unhealthy" on the first failures, only unknown.
  if (streak.failures >= t.unhealthyThreshold) return 'unhealthy';
  return current;
}
