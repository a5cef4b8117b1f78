/**
 * Instance health from TTL heartbeats, kept in memory: a heartbeat costs no database write. Only a
 * transition (passing ↔ warning ↔ critical) is written, published and audited, so every replica
 * learns it from the change feed. Flap damping counts consecutive results: `passesBeforePassing`
 * passes bring a critical instance back, `failuresBeforeCritical` failures take a serving one out. A
 * lapsed TTL is critical at once (silence for a whole TTL is already a strong signal).
 *
 * A heartbeat never waits for the write lock: a transition is shown in this replica's answers at
 * once and written in the background, with every other transition that came in meanwhile, in one
 * write. (Awaiting the write put heartbeats behind each chunk of a bulk import: p99 626 ms.)
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

/** A transition shown in memory and not yet written; `from` is the health last written. */
export interface Move {
  id: number;
  health: HealthState;
  from: HealthState;
  reason: string;
}

export interface HealthDeps {
  registry: Registry;
  clock: () => number;
  /** Show `health` in this replica's answers now, before it is written. */
  show(id: number, health: HealthState): void;
  /** In one write, `take()` the pending transitions (under the write lock), write and publish them. */
  record(take: () => Move[]): Promise<void>;
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
  const moves = new Map<number, Move>();
  let recordQueued = false;
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

  /** Health as answers show it: a transition not yet written wins over the registry's. */
  function healthOf(id: number, registered: HealthState): HealthState {
    return moves.get(id)?.health ?? registered;
  }

  /** Queue one transition, shown at once; moving back to what was written cancels it. */
  function move(id: number, registered: HealthState, health: HealthState, reason: string): void {
    const from = moves.get(id)?.from ?? registered;
    if (health === from) moves.delete(id);
    else moves.set(id, { id, health, from, reason });
    deps.show(id, health);
    if (recordQueued) return;
    recordQueued = true;
    void serial(writeMoves).catch(deps.onError);
  }

  /** Write the queued transitions; on failure they stay queued for the next tick. */
  async function writeMoves(): Promise<void> {
    recordQueued = false;
    if (moves.size === 0) return;
    let taken: Move[] = [];
    try {
      await deps.record(() => {
        taken = [...moves.values()];
        moves.clear();
        return taken;
      });
    } catch (err) {
      // A newer move of the same instance now starts from what is really written.
      for (const m of taken) {
        const newer = moves.get(m.id);
        if (!newer) moves.set(m.id, m);
        else if (newer.health === m.from) moves.delete(m.id);
        else newer.from = m.from;
      }
      throw err;
    }
  }

  async function flushAll(): Promise<void> {
    await writeMoves();
    await sweep(null);
  }

  /** Expire what lapsed by `now` (null: only write pending last-seen times). */
  async function sweep(now: number | null): Promise<number> {
    const candidates: Lapse[] = [];
    if (now !== null) {
      // Only instances with a TTL: walking all 100,000 every second stalled the event loop ~20 ms.
      for (const i of registry.heartbeating()) {
        // An instance with a transition queued was heard from just now: not a candidate.
        if (i.ttlSeconds === null || i.health === 'critical' || moves.has(i.id) || !registry.service(i.nodeId)) continue;
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
    /** Record one heartbeat; returns the instance's health, any transition already in answers. */
    heartbeat(id: number, result: HeartbeatResult): { health: HealthState; passes: number; failures: number } {
      const i = registry.instance(id);
      const svc = i && registry.service(i.nodeId);
      if (!i || !svc) throw new Error(`instance ${id} is not registered`);
      const b = beatOf(id);
      b.lastSeen = Math.max(b.lastSeen, clock());
      pending.set(id, b.lastSeen);
      const now = healthOf(id, i.health);
      let target: HealthState | undefined;
      if (result === 'fail') {
        b.passes = 0;
        b.failures++;
        if (now !== 'critical' && b.failures >= svc.failuresBeforeCritical) target = 'critical';
      } else {
        b.failures = 0;
        b.passes++;
        const want = result === 'pass' ? 'passing' : 'warning';
        if (now === 'critical' ? b.passes >= svc.passesBeforePassing : now !== want) target = want;
      }
      if (target) move(id, i.health, target, `heartbeat ${result}`);
      return { health: target ?? now, passes: b.passes, failures: b.failures };
    },

    /** After a change event put the registry's (written) health back: show a queued transition again. */
    reshow(id: number): void {
      const m = moves.get(id);
      if (m && registry.instance(id)) deps.show(id, m.health);
    },

    /** Transitions shown but not yet written (tests, shutdown). */
    queued: () => moves.size,

    /** Expire instances whose TTL lapsed by `now`; returns how many turned critical. */
    sweep: (now?: number) => serial(() => sweep(now ?? clock())),

    /** Write queued transitions and pending last-seen times now. */
    flush: () => serial(flushAll),

    /** Treat `at` as a heartbeat from `id` (registration, start-up), without counting a pass. */
    touch(id: number, at: number): void {
      const b = beatOf(id);
      b.lastSeen = Math.max(b.lastSeen, at);
    },

    /** The instance is gone or registered afresh: drop its counters and any queued transition. */
    forget(id: number): void {
      beats.delete(id);
      pending.delete(id);
      moves.delete(id);
    },

    counters: (id: number) => ({ passes: beats.get(id)?.passes ?? 0, failures: beats.get(id)?.failures ?? 0 }),

    start(): void {
      const tick = (work: () => Promise<unknown>) => () => void serial(work).catch(deps.onError);
      // The flush tick also retries transitions whose write failed.
      timers = [setInterval(tick(() => sweep(clock())), opts.sweepEveryMs), setInterval(tick(flushAll), opts.flushEveryMs)];
      for (const t of timers) t.unref();
    },

    /** Stop the timers and write what is pending. */
    async stop(): Promise<void> {
      for (const t of timers) clearInterval(t);
      timers = [];
      await serial(flushAll).catch(deps.onError);
    },
  };
}
