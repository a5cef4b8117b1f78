/**
 * Which queued builds start now, and where: pure, so the orchestrator can decide it from the
 * database alone under the write lock on whichever replica hears of a change. Builds are taken
 * oldest first per pool (a build whose pool is full waits; one behind it in another pool does not);
 * a build goes to the connected machine of its pool with the fewest builds running, ties by id.
 */

export interface QueuedBuild {
  id: number;
  poolNodeId: number;
}

export interface PoolMachine {
  id: number;
  connected: boolean;
  running: number;
}

export interface PoolState {
  machines: PoolMachine[];
  maxPerMachine: number;
}

export interface Assignment {
  buildId: number;
  machineId: number;
}

/** Why a build of `pool` cannot start now. */
export function waitingReason(pool: PoolState, poolPath: string): string {
  if (pool.machines.length === 0) return `pool ${poolPath} has no machines`;
  const connected = pool.machines.filter((m) => m.connected);
  if (connected.length === 0) return `no agent of pool ${poolPath} is connected`;
  return `pool ${poolPath} is busy (${connected.length} machine${connected.length === 1 ? '' : 's'} × ${pool.maxPerMachine} at once)`;
}

/** Assign `queued` (oldest first) to free slots of their pools. `pools` is not changed. */
export function assignBuilds(queued: QueuedBuild[], pools: Map<number, PoolState>): Assignment[] {
  const load = new Map<number, Map<number, number>>();
  const out: Assignment[] = [];
  for (const b of [...queued].sort((x, y) => x.id - y.id)) {
    const pool = pools.get(b.poolNodeId);
    if (!pool) continue;
    let running = load.get(b.poolNodeId);
    if (!running) {
      running = new Map(pool.machines.map((m) => [m.id, m.running]));
      load.set(b.poolNodeId, running);
    }
    let best: PoolMachine | undefined;
    for (const m of pool.machines) {
      if (!m.connected || running.get(m.id)! >= pool.maxPerMachine) continue;
      if (!best || running.get(m.id)! < running.get(best.id)! || (running.get(m.id) === running.get(best.id) && m.id < best.id)) best = m;
    }
    if (!best) continue;
    running.set(best.id, running.get(best.id)! + 1);
    out.push({ buildId: b.id, machineId: best.id });
  }
  return out;
}
