/** Builds as the console shows them: the API's shapes, state colours, the new-build form's input, and the live log. */
import type { BuildSettingsView, BuildView, CreateBuildInput } from '@canopy/core';

export type { BuildSettingsView, BuildView };

export const BUILD_STATE_COLOR: Record<BuildView['state'], string> = {
  queued: 'default',
  running: 'processing',
  cancelling: 'warning',
  succeeded: 'success',
  failed: 'error',
  cancelled: 'default',
};

/** True once a build will not change again. */
export function isFinished(state: BuildView['state']): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'cancelled';
}

export interface BuildFormValues {
  repo: string;
  ref: string;
  command: string;
  outputPath: string;
  version?: string;
  /** `NAME=value` lines. */
  env?: string;
}

/** The POST /builds body for the form's values; throws naming a malformed env line. */
export function buildInputOf(nodePath: string, v: BuildFormValues): Partial<CreateBuildInput> {
  const env: Record<string, string> = {};
  for (const [i, line] of (v.env ?? '').split('\n').entries()) {
    if (!line.trim()) continue;
    const at = line.indexOf('=');
    if (at <= 0) throw new Error(`environment line ${i + 1} must be NAME=value`);
    env[line.slice(0, at).trim()] = line.slice(at + 1);
  }
  return {
    nodePath,
    repo: v.repo.trim(),
    ref: v.ref.trim() || 'main',
    command: v.command,
    outputPath: v.outputPath.trim(),
    ...(v.version?.trim() ? { version: v.version.trim() } : {}),
    env,
  };
}

/** The log as received from the live stream: `log` pieces appended at their offset, `reset` replacing it. */
export interface LogState {
  text: string;
  /** Bytes received (the `at` the next piece must start at). */
  bytes: number;
}

/** Apply one stream event to the log; a piece that does not continue it (a resent one) is dropped. */
export function applyLogEvent(log: LogState, event: 'log' | 'reset', data: { at: number; text: string }): LogState {
  const size = new TextEncoder().encode(data.text).length;
  if (event === 'reset') return { text: data.text, bytes: size };
  if (data.at !== log.bytes) return log;
  return { text: log.text + data.text, bytes: log.bytes + size };
}

/** A duration in ms as people read it. */
export function durationText(ms: number | null): string {
  if (ms === null) return '';
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}
