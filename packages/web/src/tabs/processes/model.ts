/** Pure helpers of the Processes tab (tested without a browser). */
import type { ProcessView } from '@canopy/core';

export const STATE_COLOR: Record<string, string> = {
  running: 'green',
  starting: 'blue',
  backoff: 'orange',
  draining: 'gold',
  stopping: 'gold',
  stopped: 'default',
  exited: 'default',
  flapping: 'red',
  fatal: 'red',
  pending: 'default',
  unknown: 'default',
};

export const HEALTH_COLOR: Record<string, string> = { healthy: 'green', unhealthy: 'red', unknown: 'default', none: 'default' };

/** "3d4h", "2h5m", "4m10s", "12s"; empty when not running. */
export function uptimeText(s: number | null): string {
  if (s === null) return '';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
}

/** The log tail kept in the browser: the newest `max` characters, cut at a line start. */
export function appendTail(text: string, chunk: string, max = 200_000): string {
  const all = text + chunk;
  if (all.length <= max) return all;
  const cut = all.indexOf('\n', all.length - max);
  return cut < 0 ? all.slice(-max) : all.slice(cut + 1);
}

/** Counts for the header line: how many run, are unhealthy, flap. */
export function summary(items: ProcessView[]): { running: number; unhealthy: number; flapping: number; total: number } {
  return {
    total: items.length,
    running: items.filter((p) => p.state === 'running').length,
    unhealthy: items.filter((p) => p.health === 'unhealthy').length,
    flapping: items.filter((p) => p.flapping).length,
  };
}
