/**
 * Aggregation across series: each series is first brought to the query's step (avg of its
 * points' avgs, min of mins, max of maxes per bucket), then the series' buckets are combined.
 * `max`/`min` use the series' own max/min, so a 10 s spike survives a 10-minute step; `avg`, `sum`
 * and `p95` use the bucket averages.
 */
import type { Aggregation } from './schemas.ts';

/** A point as the store answers it: time (ms), avg, min, max. */
export type StoredPoint = readonly [t: number, avg: number, min: number, max: number];

/** One series brought to `stepMs` buckets (aligned on multiples of the step): bucket start → [avg, min, max]. */
export function bucketise(points: readonly StoredPoint[], stepMs: number, fromMs: number, toMs: number): Map<number, [number, number, number]> {
  const acc = new Map<number, [sum: number, n: number, min: number, max: number]>();
  for (const [t, a, lo, hi] of points) {
    if (t < fromMs || t > toMs || !Number.isFinite(a)) continue;
    const b = Math.floor(t / stepMs) * stepMs;
    const cur = acc.get(b);
    if (cur) {
      cur[0] += a;
      cur[1]++;
      if (lo < cur[2]) cur[2] = lo;
      if (hi > cur[3]) cur[3] = hi;
    } else acc.set(b, [a, 1, lo, hi]);
  }
  const out = new Map<number, [number, number, number]>();
  for (const [b, [s, n, lo, hi]] of acc) out.set(b, [s / n, lo, hi]);
  return out;
}

/** The nearest-rank percentile `p` (0–1) of `values` (sorted in place). */
export function percentile(values: number[], p: number): number {
  values.sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(p * values.length));
  return values[rank - 1] as number;
}

/** Combine bucketised series into one series of [t, value], in time order. */
export function combine(series: Map<number, [number, number, number]>[], agg: Aggregation): [number, number][] {
  const by = new Map<number, number[]>();
  for (const s of series)
    for (const [t, [a, lo, hi]] of s) {
      const v = agg === 'max' ? hi : agg === 'min' ? lo : a;
      const list = by.get(t);
      if (list) list.push(v);
      else by.set(t, [v]);
    }
  const out: [number, number][] = [];
  for (const [t, vs] of by) {
    let v: number;
    switch (agg) {
      case 'avg':
        v = vs.reduce((x, y) => x + y, 0) / vs.length;
        break;
      case 'sum':
        v = vs.reduce((x, y) => x + y, 0);
        break;
      case 'max':
        v = Math.max(...vs);
        break;
      case 'min':
        v = Math.min(...vs);
        break;
      case 'p95':
        v = percentile(vs, 0.95);
        break;
    }
    out.push([t, v]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** A step (seconds) giving about `points` points over the range, rounded to a tidy value, at least `minSeconds`. */
export function autoStep(fromMs: number, toMs: number, minSeconds = 10, points = 240): number {
  const raw = Math.max(minSeconds, (toMs - fromMs) / 1000 / points);
  const tidy = [10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
  return tidy.find((s) => s >= raw) ?? 86400;
}
