/**
 * The process orchestrator's decision, pure: given a node's declaration and what its machines run,
 * which `process` tasks to create and which to shut down. A node is a global service (one task per
 * machine); a new generation (restart, new declaration) replaces the old tasks one machine at a
 * time, the next only once the previous one's new process is running and healthy, so a restart of
 * every machine never takes more than one out of service.
 */
import { TaskState } from '@canopy/core';

export interface PlanInput {
  desired: 'running' | 'stopped';
  generation: number;
  /** Tasks of an older generation that count as current (a deployment kept them on its release). */
  adopted?: ReadonlySet<string> | undefined;
  /** Machines bound to the node (not retired). */
  members: number[];
  /** Unfinished process tasks of the node. */
  open: { id: string; machineId: number; generation: number; desired: number }[];
  /** Per machine, the newest task of the node that has ended (to not start again what failed). */
  ended: Map<number, { generation: number; state: number }>;
  /** Tasks whose process is running and healthy (or has no check). */
  ready: Set<string>;
  /** Machines whose agent is away: their tasks wait, and do not hold a rolling restart up. */
  away: Set<number>;
  /** Machines replaced at once; default 1. */
  parallelism?: number;
}

export interface Plan {
  create: number[];
  shutdown: string[];
}

/** What to do next for one node. */
export function planProcesses(p: PlanInput): Plan {
  const shutdown = (ids: { id: string; desired: number }[]) => ids.filter((t) => t.desired !== TaskState.SHUTDOWN).map((t) => t.id);
  if (p.desired === 'stopped') return { create: [], shutdown: shutdown(p.open) };
  const members = new Set(p.members);
  const out: Plan = { create: [], shutdown: shutdown(p.open.filter((t) => !members.has(t.machineId))) };
  const current = new Map<number, { id: string }>();
  const isCurrent = (t: { id: string; generation: number }) => t.generation === p.generation || p.adopted?.has(t.id) === true;
  for (const t of p.open) if (isCurrent(t) && members.has(t.machineId)) current.set(t.machineId, t);
  const olderOn = (m: number) => p.open.filter((t) => t.machineId === m && t.generation < p.generation && !isCurrent(t));
  let inTransition = [...current.entries()].filter(([m, t]) => !p.ready.has(t.id) && !p.away.has(m)).length;
  const limit = p.parallelism ?? 1;
  for (const m of [...members].sort((a, b) => a - b)) {
    if (current.has(m)) {
      // Its new process runs: the agent already stopped the older one; end those tasks too.
      out.shutdown.push(...shutdown(olderOn(m)));
      continue;
    }
    const ended = p.ended.get(m);
    // A task of this generation that failed or was refused stays so until the next restart.
    if (ended && ended.generation === p.generation && ended.state !== TaskState.ORPHANED && ended.state !== TaskState.SHUTDOWN) continue;
    const older = olderOn(m);
    if (older.length === 0) {
      out.create.push(m); // nothing to take out of service
      continue;
    }
    if (inTransition >= limit) continue;
    out.create.push(m);
    if (!p.away.has(m)) inTransition++;
  }
  return out;
}
