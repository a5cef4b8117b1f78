/**
 * A `process` task's own log: two files in the task's folder, `stdout` (the agent's progress
 * lines, prefixed `canopy:`, and the hooks' standard output) and `stderr` (the hooks' errors). The
 * worker reports them like any task's output, so the control center shows per-host staging and
 * hook output while a deployment runs. The app's own output is not here: it goes to the
 * supervisor's rotated logs.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OutputSource } from '../exec/controller.ts';

/** Bytes of each stream reported per task (head and tail, half each). */
const LIMIT_BYTES = 256 * 1024;

export interface TaskLog extends OutputSource {
  /** Append one progress line. */
  say(line: string): void;
}

/** The log of the task whose folder is `dir`. */
export function taskLog(dir: string): TaskLog {
  const stdoutPath = join(dir, 'stdout');
  const stderrPath = join(dir, 'stderr');
  return {
    stdoutPath,
    stderrPath,
    limitBytes: LIMIT_BYTES,
    say(line) {
      appendFileSync(stdoutPath, `canopy: ${line}\n`, { mode: 0o600 });
    },
  };
}
