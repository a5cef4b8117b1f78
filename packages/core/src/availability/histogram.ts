/**
 * Latency histograms with fixed bucket bounds, so every agent's counts add up on the server and a
 * quantile over any window is a merge of arrays. Bounds are upper limits in milliseconds; the last
 * bucket holds everything slower.
 */

/** Upper bounds (ms) of the buckets; index LATENCY_BOUNDS_MS.length is the overflow bucket. */
export const LATENCY_BOUNDS_MS = [
  1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000, 30_000, 60_000,
] as const;

/** Number of buckets in a histogram array. */
export const LATENCY_BUCKETS = LATENCY_BOUNDS_MS.length + 1;

/** A new empty histogram. */
export function emptyHistogram(): number[] {
  return new Array<number>(LATENCY_BUCKETS).fill(0);
}

/** The bucket a latency (seconds, as nginx logs it) falls in. */
export function bucketOf(seconds: number): number {
  const ms = seconds * 1000;
  let lo = 0;
  let hi: number = LATENCY_BOUNDS_MS.length;
  // First bound >= ms; nginx rounds to whole milliseconds, so `<=` keeps 0.001 s in the 1 ms bucket.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ms <= LATENCY_BOUNDS_MS[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Add `from` into `into` (same length; a shorter `from` adds what it has). */
export function mergeHistogram(into: number[], from: readonly number[]): void {
  for (let i = 0; i < from.length && i < into.length; i++) into[i]! += from[i] ?? 0;
}

/**
 * The q-quantile (0..1) in milliseconds, interpolated linearly inside its bucket (Prometheus'
 * histogram_quantile does the same); null for an empty histogram. The overflow bucket answers its
 * lower bound.
 */
export function quantileMs(h: readonly number[], q: number): number | null {
  let total = 0;
  for (const n of h) total += n;
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    const n = h[i] ?? 0;
    if (n > 0 && seen + n >= rank) {
      const lo = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1]!;
      if (i >= LATENCY_BOUNDS_MS.length) return lo;
      const hi = LATENCY_BOUNDS_MS[i]!;
      return lo + (hi - lo) * Math.max(0, rank - seen) / n;
    }
    seen += n;
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]!;
}
