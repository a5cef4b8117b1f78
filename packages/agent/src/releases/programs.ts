/**
 * What the supervisor runs for a node, with each program's spec: which release dirs are in use
 * (never pruned) and whose preStop hook runs before a newer task replaces it. The specs are read
 * from the supervisor's own records (`<state dir>/supervisor/<task>.json`), which it saves on every
 * change; the live state comes from the supervisor itself.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProcessLive, ProcessTaskSpec } from '@canopy/core';
import { TaskError } from '../exec/controller.ts';
import type { ProgramRecord } from '../supervisor/program.ts';
import type { Supervisor } from '../supervisor/supervisor.ts';

/** States in which nothing runs nor will run again. */
const DONE = new Set<ProcessLive['state']>(['stopped', 'exited', 'fatal', 'flapping']);

export interface NodeProgram {
  taskId: string;
  spec: ProcessTaskSpec;
  live: ProcessLive;
}

/** The programs of node `nodeId` that run or will run again (backoff), with their specs. */
export function activePrograms(sup: Supervisor, nodeId: number): NodeProgram[] {
  const out: NodeProgram[] = [];
  for (const live of sup.list()) {
    if (live.nodeId !== nodeId || DONE.has(live.state)) continue;
    try {
      const rec = JSON.parse(readFileSync(join(sup.stateDir, 'supervisor', `${live.taskId}.json`), 'utf8')) as ProgramRecord;
      out.push({ taskId: live.taskId, spec: rec.spec, live });
    } catch {
      // Forgotten meanwhile.
    }
  }
  return out;
}

/** Whether the program's process is up (not stopping, stopped or waiting to restart). */
export function isUp(live: ProcessLive | undefined): boolean {
  return live !== undefined && (live.state === 'running' || live.state === 'starting');
}

/**
 * Resolves once task `taskId`'s program runs and is healthy (or has no check). Throws a fatal
 * TaskError when it cannot come up (fatal, flapping, exited, stopped), and a temporary one as soon
 * as `wanted()` turns false, so a task desired SHUTDOWN meanwhile is not held in its start.
 */
export async function untilUp(sup: Supervisor, taskId: string, wanted: () => boolean): Promise<ProcessLive> {
  for (;;) {
    const live = sup.get(taskId);
    if (!live) throw new TaskError('the supervisor does not hold the process');
    if (live.state === 'running' && (live.health === 'healthy' || live.health === 'none')) return live;
    if (DONE.has(live.state)) throw new TaskError(`the process did not come up: ${live.message}`, { exitCode: live.lastExit?.code ?? undefined });
    if (!wanted()) throw new TaskError('start interrupted: the task is no longer wanted running', { temporary: true });
    await sleep(100);
  }
}
