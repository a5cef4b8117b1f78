/**
 * The in-memory side of the embedded store. Per series: a ring of the last hour's raw samples, and
 * per history tier the bucket being filled plus its open chunk, kept encoded (a few bytes a
 * bucket), so 50,000 series hold their open history in tens of MB. Closed chunks wait here until
 * the next flush writes them; the flush also writes every open chunk that grew, so a restart
 * resumes from the database and a kill -9 loses at most one flush interval of history.
 */
import { ChunkEncoder, decodeChunk, type HistoryPoint } from '@canopy/core';

export interface Tier {
  stepMs: number;
  chunkMs: number;
  keepMs: number;
}

/** 1 min buckets for a day, 10 min for a week, 1 h for 30 days (chunks of 360, 288 and 192 buckets). */
export const DEFAULT_TIERS: Tier[] = [
  { stepMs: 60_000, chunkMs: 6 * 3_600_000, keepMs: 86_400_000 },
  { stepMs: 600_000, chunkMs: 48 * 3_600_000, keepMs: 7 * 86_400_000 },
  { stepMs: 3_600_000, chunkMs: 8 * 86_400_000, keepMs: 30 * 86_400_000 },
];

interface TierState {
  bucket: number;
  sum: number;
  n: number;
  min: number;
  max: number;
  /** The last bucket appended to a chunk: samples for it or before it are too late for this tier. */
  closed: number;
  open: ChunkEncoder | null;
  dirty: boolean;
  sealed: ChunkEncoder[];
}

/** A chunk to write: series, tier, start (ms), bucket count, bytes. */
export interface ChunkRow {
  seriesId: number;
  tier: number;
  startMs: number;
  count: number;
  data: Uint8Array;
}

/** One series held in memory. */
export class SeriesState {
  id = 0;
  readonly machineId: number;
  readonly key: string;
  readonly name: string;
  readonly labels: Record<string, string>;
  times = new Uint32Array(0);
  values = new Float64Array(0);
  head = 0;
  len = 0;
  lastAt = 0;
  /** The counter's previous reading, for its rate. */
  prev: { at: number; v: number } | undefined;
  readonly tiers: TierState[];
  constructor(machineId: number, key: string, name: string, labels: Record<string, string>, tierCount: number) {
    this.machineId = machineId;
    this.key = key;
    this.name = name;
    this.labels = labels;
    this.tiers = Array.from({ length: tierCount }, () => ({ bucket: -1, sum: 0, n: 0, min: 0, max: 0, closed: -1, open: null, dirty: false, sealed: [] }));
  }

  /** Raw samples in [fromMs, toMs] as points. */
  raw(fromMs: number, toMs: number): HistoryPoint[] {
    const out: HistoryPoint[] = [];
    const cap = this.times.length;
    for (let i = 0; i < this.len; i++) {
      const k = (this.head - this.len + i + cap) % cap;
      const t = (this.times[k] as number) * 1000;
      if (t < fromMs || t > toMs) continue;
      const v = this.values[k] as number;
      out.push([t, v, v, v]);
    }
    return out;
  }

  /** Points of tier `tier` held in memory in [fromMs, toMs]: sealed and open chunks, then the bucket being filled. */
  memory(tier: number, tiers: Tier[], fromMs: number, toMs: number): { chunks: Set<number>; points: HistoryPoint[] } {
    const st = this.tiers[tier] as TierState;
    const { stepMs } = tiers[tier] as Tier;
    const chunks = new Set<number>();
    const points: HistoryPoint[] = [];
    for (const c of [...st.sealed, ...(st.open ? [st.open] : [])]) {
      chunks.add(c.startMs);
      for (const p of decodeChunk(c.bytes(), c.count, c.startMs, stepMs)) if (p[0] + stepMs > fromMs && p[0] <= toMs) points.push(p);
    }
    // A bucket belongs to a range it overlaps: the one holding `fromMs` starts before it.
    if (st.n > 0 && st.bucket + stepMs > fromMs && st.bucket <= toMs) points.push([st.bucket, st.sum / st.n, st.min, st.max]);
    return { chunks, points };
  }
}

/** Retained raw samples and tier accumulators for every series this replica ingests. */
export function createSeriesStore(opts: { tiers: Tier[]; rawMs: number; intervalMs: number }) {
  const { tiers, rawMs } = opts;
  const capMax = Math.ceil(rawMs / opts.intervalMs) + 8;

  function pushRaw(s: SeriesState, at: number, v: number): void {
    if (s.len === s.times.length) {
      if (s.times.length < capMax) {
        const cap = Math.min(capMax, Math.max(16, s.times.length * 2));
        const times = new Uint32Array(cap);
        const values = new Float64Array(cap);
        for (let i = 0; i < s.len; i++) {
          const k = (s.head - s.len + i + s.times.length) % s.times.length;
          times[i] = s.times[k] as number;
          values[i] = s.values[k] as number;
        }
        s.times = times;
        s.values = values;
        s.head = s.len;
      } else s.len--;
    }
    s.times[s.head] = Math.round(at / 1000);
    s.values[s.head] = v;
    s.head = (s.head + 1) % s.times.length;
    s.len++;
    // Drop what is older than the raw window (a machine that came back after a gap).
    while (s.len > 0 && ((s.times[(s.head - s.len + s.times.length) % s.times.length] as number) * 1000 < at - rawMs)) s.len--;
  }

  function close(s: SeriesState, i: number): void {
    const st = s.tiers[i] as TierState;
    const tier = tiers[i] as Tier;
    if (st.n === 0) return;
    const start = Math.floor(st.bucket / tier.chunkMs) * tier.chunkMs;
    if (st.open && st.open.startMs !== start) {
      st.sealed.push(st.open);
      st.open = null;
    }
    st.open ??= new ChunkEncoder(start, tier.stepMs);
    st.open.append(st.bucket, st.sum / st.n, st.min, st.max);
    st.closed = st.bucket;
    st.dirty = true;
    st.n = 0;
  }

  return {
    tiers,
    /** Record one stored value (counters already turned into rates). Late samples are dropped. */
    add(s: SeriesState, at: number, v: number): void {
      if (at <= s.lastAt || !Number.isFinite(v)) return;
      s.lastAt = at;
      pushRaw(s, at, v);
      for (let i = 0; i < tiers.length; i++) {
        const st = s.tiers[i] as TierState;
        const b = Math.floor(at / (tiers[i] as Tier).stepMs) * (tiers[i] as Tier).stepMs;
        if (b <= st.closed) continue;
        if (st.n > 0 && b !== st.bucket) close(s, i);
        if (st.n === 0) {
          st.bucket = b;
          st.sum = v;
          st.n = 1;
          st.min = v;
          st.max = v;
        } else {
          st.sum += v;
          st.n++;
          if (v < st.min) st.min = v;
          if (v > st.max) st.max = v;
        }
      }
    },
    /** Close buckets that ended before `nowMs - graceMs` (a machine that stopped pushing). */
    closeIdle(all: Iterable<SeriesState>, nowMs: number, graceMs: number): void {
      for (const s of all)
        for (let i = 0; i < tiers.length; i++) {
          const st = s.tiers[i] as TierState;
          if (st.n > 0 && st.bucket + (tiers[i] as Tier).stepMs + graceMs <= nowMs) close(s, i);
        }
    },
    /** Take the chunks to write (sealed ones, and open ones that grew); `done` after the write. */
    take(all: Iterable<SeriesState>): { rows: ChunkRow[]; done(ok: boolean): void } {
      const rows: ChunkRow[] = [];
      const undo: (() => void)[] = [];
      for (const s of all) {
        if (s.id === 0) continue;
        for (let i = 0; i < s.tiers.length; i++) {
          const st = s.tiers[i] as TierState;
          const sealed = st.sealed.splice(0);
          for (const c of sealed) rows.push({ seriesId: s.id, tier: i, startMs: c.startMs, count: c.count, data: c.bytes() });
          if (st.open && st.dirty) rows.push({ seriesId: s.id, tier: i, startMs: st.open.startMs, count: st.open.count, data: st.open.bytes() });
          const wasDirty = st.dirty;
          st.dirty = false;
          if (sealed.length > 0 || wasDirty)
            undo.push(() => {
              st.sealed.unshift(...sealed);
              st.dirty ||= wasDirty;
            });
        }
      }
      return { rows, done: (ok) => void (ok || undo.forEach((f) => f())) };
    },
    /** Resume the open chunk of a tier from its stored bytes (after a restart). */
    resume(s: SeriesState, tier: number, startMs: number, count: number, data: Uint8Array): void {
      const st = s.tiers[tier] as TierState;
      const t = tiers[tier] as Tier;
      if (st.open || st.n > 0 || count === 0) return;
      const enc = new ChunkEncoder(startMs, t.stepMs);
      const points = decodeChunk(data, count, startMs, t.stepMs);
      for (const p of points) enc.append(...p);
      st.open = enc;
      st.closed = (points.at(-1) as HistoryPoint)[0];
    },
  };
}

export type SeriesStore = ReturnType<typeof createSeriesStore>;
