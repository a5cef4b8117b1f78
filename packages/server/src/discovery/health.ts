/**
 * Instance health from TTL heartbeats, kept in memory: a heartbeat costs no database write. Only a
 * transition (passing ↔ warning ↔ critical) is written and published, so every replica learns it
 * from the change feed. Flap damping counts consecutive results: `passesBeforePassing` passes bring
 * a critical instance back, `failuresBeforeCritical` failures take a serving one out. A lapsed TTL
 * is critical at once (silence for a whole TTL is already a strong signal).
 *
 * Replicas: each replica counts the heartbeats it receives and writes its last-seen times in
 * batches (`flushEveryMs`). Before declaring a TTL lapsed, a replica reads every replica's
 * last-seen time, so an agent whose heartbeats land on another replica is not expired. Keep TTLs
 * at least three flush intervals long.
 */
import type { HealthState, HeartbeatResult } from '@canopy/core';
import type { Registry } from './registry.ts';

interface Beat {
  lastSeen: number;
  passes: number;
  failures: number;
}

/** A candidate for expiry: its TTL and when this replica last heard from it. */
export interface Lapse {
  id: number;
  ttlMs: number;
  lastSeen: number;
}

export interface HealthDeps {
  registry: Registry;
  clock: () => number;
  /** Write and publish one transition, unless the instance is already there. */
  transition(id: number, health: HealthState, reason: string): Promise<void>;
  /**
   * In one write: save `seen`, then expire every candidate that no replica heard from within its
   * TTL at `now`. Returns the newest last-seen time of the candidates that were not expired.
   */
  persist(seen: Map<number, number>, candidates: Lapse[], now: number): Promise<Map<number, number>>;
  onError(err: unknown): void;
}

export interface HealthOptions {
  sweepEveryMs: number;
  flushEveryMs: number;
}

export type HealthTracker = ReturnType<typeof createHealthTracker>;

/** A tracker over the registry; `start()` runs the sweeper and the flusher. */
export function createHealthTracker(deps: HealthDeps, opts: HealthOptions) {
  const { registry, clock } = deps;
  const beats = new Map<number, Beat>();
  let pending = new Map<number, number>();
  let timers: NodeJS.Timeout[] = [];
  let running: Promise<unknown> = Promise.resolve();

  function beatOf(id: number): Beat {
    let b = beats.get(id);
    if (!b) beats.set(id, (b = { lastSeen: clock(), passes: 0, failures: 0 }));
    return b;
  }

  /** Run background work one at a time, so a slow database never stacks sweeps. */
  function serial<T>(work: () => Promise<T>): Promise<T> {
    const p = running.then(work, work);
    running = p.catch(() => {});
    return p;
  }

  /** Expire what lapsed by `now` (null: only write pending last-seen times). */
  async function sweep(now: number | null): Promise<number> {
    const candidates: Lapse[] = [];
    if (now !== null) {
      // Only instances with a TTL: walking all 100,000 every second stalled the event loop ~20 ms.
      for (const i of registry.heartbeating()) {
        if (i.ttlSeconds === null || i.health === 'critical' || !registry.service(i.nodeId)) continue;
        const b = beatOf(i.id);
        if (b.lastSeen + i.ttlSeconds * 1000 <= now) candidates.push({ id: i.id, ttlMs: i.ttlSeconds * 1000, lastSeen: b.lastSeen });
      }
      if (candidates.length === 0) return 0;
    }
    const seen = pending;
    pending = new Map();
    if (candidates.length === 0 && seen.size === 0) return 0;
    const alive = await deps.persist(seen, candidates, now ?? 0);
    let lapsed = 0;
    for (const c of candidates) {
      const b = beatOf(c.id);
      const t = alive.get(c.id);
      if (t === undefined) {
        b.passes = 0;
        b.failures = 0;
        lapsed++;
      } else b.lastSeen = Math.max(b.lastSeen, t);
    }
    return lapsed;
  }

  return {
    /** Record one heartbeat; resolves with the instance's health once any transition is published. */
    async heartbeat(id: number, result: HeartbeatResult): Promise<{ health: HealthState; passes: number; failures: number }> {
      const i = registry.instance(id);
      const svc = i && registry.service(i.nodeId);
      if (!i || !svc) throw new Error(`instance ${id} is not registered`);
      const b = beatOf(id);
      b.lastSeen = Math.max(b.lastSeen, clock());
      pending.set(id, b.lastSeen);
      let target: HealthState | undefined;
      if (result === 'fail') {
        b.passes = 0;
        b.failures++;
        if (i.health !== 'critical' && b.failures >= svc.failuresBeforeCritical) target = 'critical';
      } else {
        b.failures = 0;
        b.passes++;
        const want = result === 'pass' ? 'passing' : 'warning';
        if (i.health === 'critical' ? b.passes >= svc.passesBeforePassing : i.health !== want) target = want;
      }
      if (target) await deps.transition(id, target, `heartbeat ${result}`);
      return { health: registry.instance(id)?.health ?? target ?? i.health, passes: b.passes, failures: b.failures };
    },

    /** Expire instances whose TTL lapsed by `now`; returns how many turned critical. */
    sweep: (now?: number) => serial(() => sweep(now ?? clock())),

    /** Write pending last-seen times now. */
    flush: () => serial(() => sweep(null)),

    /** Treat `at` as a heartbeat from `id` (registration, start-up), without counting a pass. */
    touch(id: number, at: number): void {
      const b = beatOf(id);
      b.lastSeen = Math.max(b.lastSeen, at);
    },

    forget(id: number): void {
      beats.delete(id);
      pending.delete(id);
    },

    counters: (id: number) => ({ passes: beats.get(id)?.passes ?? 0, failures: beats.get(id)?.failures ?? 0 }),

    start(): void {
      const tick = (work: () => Promise<unknown>) => () => void serial(work).catch(deps.onError);
      timers = [setInterval(tick(() => sweep(clock())), opts.sweepEveryMs), setInterval(tick(() => sweep(null)), opts.flushEveryMs)];
      for (const t of timers) t.unref();
    },

    /** Stop the timers and write what is pending. */
    async stop(): Promise<void> {
      for (const t of timers) clearInterval(t);
      timers = [];
      await serial(() => sweep(null)).catch(deps.onError);
    },
  };
}
