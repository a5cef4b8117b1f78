/**
 * The embedded metrics store: series known to this replica, ingest (counters become per-second
 * rates, the dashboard series are derived), periodic flush of history chunks to the database (of the
 * machines pushing to this replica; others' come relayed and their own replica writes them),
 * retention, and reads that merge what is in memory with stored chunks (closed ones cached).
 */
import { decodeChunk, deriveSamples, isCounter, parseSeriesKey, seriesKey, type HistoryPoint, type Sample } from '@canopy/core';
import type { Queryable } from '../db/connection.ts';
import * as repo from './repo.ts';
import { createSeriesStore, DEFAULT_TIERS, SeriesState, type ChunkRow, type Tier } from './store.ts';

export interface HistoryOptions {
  tiers?: Tier[] | undefined;
  /** Minutes of raw samples kept in memory; default 60. */
  rawMinutes?: number | undefined;
  /** Seconds between agent collections; default 10. */
  intervalSeconds?: number | undefined;
  /** Seconds between writes of history chunks (CANOPY_MONITOR_FLUSH_SECONDS); default 300. */
  flushSeconds?: number | undefined;
  /** Bytes of closed chunks cached for queries; default 128 MiB. */
  cacheBytes?: number | undefined;
  now?: (() => number) | undefined;
  onError?: ((err: unknown) => void) | undefined;
}

/** One ingested collection: when, and its series' values in order. */
export interface IngestSample {
  at: number;
  entries: [key: string, value: number | null][];
}

export type History = ReturnType<typeof createHistory>;

/** Build the store over `db`; `load()` then `start()`. */
export function createHistory(deps: { db: Queryable }, opts: HistoryOptions = {}) {
  const { db } = deps;
  const tiers = opts.tiers ?? DEFAULT_TIERS;
  const rawMs = (opts.rawMinutes ?? 60) * 60_000;
  const intervalMs = (opts.intervalSeconds ?? 10) * 1000;
  const now = opts.now ?? Date.now;
  const onError = opts.onError ?? (() => {});
  const cacheBytes = opts.cacheBytes ?? 128 * 1024 * 1024;
  const store = createSeriesStore({ tiers, rawMs, intervalMs });
  const byMachine = new Map<number, Map<string, SeriesState>>();
  const all = new Set<SeriesState>();
  const byId = new Map<number, SeriesState>();
  const listeners = new Set<(machineIds: number[]) => void>();
  const cache = new Map<string, ChunkRow>();
  let cached = 0;
  let notify = new Set<number>();
  let notifying = false;
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | null = null;
  let lastSweep = 0;
  /** Machines whose latest collection came relayed from another replica: their chunks are that replica's to write. */
  const relayedOnly = new Set<number>();

  function series(machineId: number, key: string): SeriesState {
    let m = byMachine.get(machineId);
    if (!m) byMachine.set(machineId, (m = new Map()));
    let s = m.get(key);
    if (!s) {
      const { name, labels } = parseSeriesKey(key);
      s = new SeriesState(machineId, key, name, labels, tiers.length);
      m.set(key, s);
      all.add(s);
    }
    return s;
  }

  function remember(row: ChunkRow): void {
    const k = `${row.tier}:${row.startMs}:${row.seriesId}`;
    const old = cache.get(k);
    if (old) cached -= old.data.byteLength + 64;
    cache.delete(k);
    cache.set(k, row);
    cached += row.data.byteLength + 64;
    for (const [key, r] of cache) {
      if (cached <= cacheBytes) break;
      cache.delete(key);
      cached -= r.data.byteLength + 64;
    }
  }

  async function flush(): Promise<void> {
    store.closeIdle(all, now(), intervalMs * 3);
    const fresh = [...all].filter((s) => s.id === 0);
    for (let i = 0; i < fresh.length; i += 5000)
      for (const r of await repo.seriesIds(db, fresh.slice(i, i + 5000))) {
        const s = byMachine.get(r.machineId)?.get(r.key);
        if (s) {
          s.id = r.id;
          byId.set(r.id, s);
        }
      }
    const owned = [...all].filter((x) => !relayedOnly.has(x.machineId));
    // Chunks of relayed machines are written by the replica they push to: taken here only to be dropped.
    store.take([...all].filter((x) => relayedOnly.has(x.machineId))).done(true);
    const { rows, done } = store.take(owned);
    try {
      await repo.putChunks(db, rows);
      done(true);
    } catch (err) {
      done(false);
      throw err;
    }
    const t = now();
    for (const r of rows) if (r.startMs + (tiers[r.tier] as Tier).chunkMs <= t) remember(r);
    if (t - lastSweep >= 3_600_000) {
      lastSweep = t;
      for (let i = 0; i < tiers.length; i++) await repo.dropChunks(db, i, t - (tiers[i] as Tier).keepMs - (tiers[i] as Tier).chunkMs);
    }
    // Every flush rewrites the open chunks: without a vacuum their old versions pile up on disk.
    await repo.vacuumChunks(db).catch(onError);
  }

  function flushOnce(): Promise<void> {
    flushing ??= flush().finally(() => (flushing = null));
    return flushing;
  }

  return {
    tiers,
    rawMs,
    intervalMs,
    /** Series of a machine (undefined: it never pushed). */
    machineSeries: (machineId: number) => byMachine.get(machineId),
    seriesCount: () => all.size,
    /** Record collections of one machine, received from its agent or `relayed` by another replica. */
    ingest(machineId: number, samples: IngestSample[], relayed = false): void {
      if (relayed) relayedOnly.add(machineId);
      else relayedOnly.delete(machineId);
      for (const { at, entries } of samples) {
        const stored: Sample[] = [];
        for (const [key, v] of entries) {
          if (v === null) continue;
          const s = series(machineId, key);
          let value: number | undefined = v;
          if (isCounter(s.name)) {
            const p = s.prev;
            s.prev = { at, v };
            value = p && at > p.at && v >= p.v ? ((v - p.v) * 1000) / (at - p.at) : undefined;
          }
          if (value === undefined) continue;
          store.add(s, at, value);
          stored.push({ name: s.name, labels: s.labels, value });
        }
        for (const d of deriveSamples(stored)) store.add(series(machineId, seriesKey(d.name, d.labels)), at, d.value);
      }
      notify.add(machineId);
      if (!notifying) {
        notifying = true;
        setImmediate(() => {
          const ids = [...notify];
          notify = new Set();
          notifying = false;
          for (const fn of listeners) {
            try {
              fn(ids);
            } catch (err) {
              onError(err);
            }
          }
        });
      }
    },
    onIngest(fn: (machineIds: number[]) => void): () => void {
      listeners.add(fn);
      return () => void listeners.delete(fn);
    },
    /** Points of these series in [fromMs, toMs] from the raw ring (`tier` -1) or a history tier. */
    async read(list: SeriesState[], tier: number, fromMs: number, toMs: number): Promise<Map<SeriesState, HistoryPoint[]>> {
      const out = new Map<SeriesState, HistoryPoint[]>();
      if (tier < 0) {
        for (const s of list) out.set(s, s.raw(fromMs, toMs));
        return out;
      }
      const t = tiers[tier] as Tier;
      const starts: number[] = [];
      for (let c = Math.floor(fromMs / t.chunkMs) * t.chunkMs; c <= toMs; c += t.chunkMs) starts.push(c);
      const missing = new Map<number, Set<number>>();
      for (const s of list) {
        const mem = s.memory(tier, tiers, fromMs, toMs);
        const points = mem.points;
        out.set(s, points);
        if (s.id === 0) continue;
        for (const c of starts) {
          if (mem.chunks.has(c)) continue;
          const hit = cache.get(`${tier}:${c}:${s.id}`);
          if (hit) points.push(...decodeChunk(hit.data, hit.count, c, t.stepMs).filter((p) => p[0] + t.stepMs > fromMs && p[0] <= toMs));
          else {
            let set = missing.get(c);
            if (!set) missing.set(c, (set = new Set()));
            set.add(s.id);
          }
        }
      }
      const ids = new Set<number>();
      for (const set of missing.values()) for (const id of set) ids.add(id);
      const idList = [...ids];
      for (let i = 0; i < idList.length; i += 5000) {
        for (const row of await repo.chunks(db, tier, [...missing.keys()], idList.slice(i, i + 5000))) {
          const s = byId.get(row.seriesId);
          if (!s || !missing.get(row.startMs)?.delete(row.seriesId)) continue;
          if (row.startMs + t.chunkMs <= now()) remember(row);
          out.get(s)?.push(...decodeChunk(row.data, row.count, row.startMs, t.stepMs).filter((p) => p[0] + t.stepMs > fromMs && p[0] <= toMs));
        }
      }
      // A closed chunk that is not stored never will be (the series began later): remember that too.
      for (const [start, set] of missing) if (start + t.chunkMs <= now()) for (const id of set) remember({ seriesId: id, tier, startMs: start, count: 0, data: new Uint8Array(0) });
      for (const points of out.values()) points.sort((a, b) => a[0] - b[0]);
      return out;
    },
    /** What memory holds for a series in [fromMs, toMs]: tier 0 before the raw window, raw inside it. */
    recent(s: SeriesState, fromMs: number, toMs: number): [number, number][] {
      const rawFrom = now() - rawMs;
      const out: [number, number][] = [];
      if (fromMs < rawFrom) for (const p of s.memory(0, tiers, fromMs, Math.min(toMs, rawFrom)).points) out.push([p[0], p[1]]);
      for (const p of s.raw(Math.max(fromMs, rawFrom), toMs)) out.push([p[0], p[1]]);
      return out;
    },
    /** Known series and the open chunks to resume, from the database. */
    async load(): Promise<void> {
      for (const r of await repo.allSeries(db)) {
        const s = series(r.machineId, r.key);
        s.id = r.id;
        byId.set(r.id, s);
      }
      const t = now();
      for (let i = 0; i < tiers.length; i++) {
        const tier = tiers[i] as Tier;
        for (const row of await repo.chunksSince(db, i, Math.floor(t / tier.chunkMs) * tier.chunkMs)) {
          const s = byId.get(row.seriesId);
          if (s) store.resume(s, i, row.startMs, row.count, row.data);
        }
      }
    },
    start(): void {
      const ms = (opts.flushSeconds ?? 300) * 1000;
      timer = setInterval(() => void flushOnce().catch(onError), ms);
      timer.unref();
    },
    /** Write what is pending now (tests, shutdown). */
    flush: flushOnce,
    /** Stop the timer and write everything, partial buckets included. */
    async stop(): Promise<void> {
      clearInterval(timer);
      await flushing?.catch(() => {});
      store.closeIdle(all, Number.MAX_SAFE_INTEGER, 0);
      await flushOnce();
    },
    diskBytes: () => repo.historyBytes(db),
  };
}
