/** Small timing helpers shared by the benchmarks. */

/** Percentile of already-sorted numbers (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** Run `fn` `n` times (after `warm` warm-up runs); return sorted durations in ms. */
export async function timeMany(n: number, fn: (i: number) => unknown, warm = Math.min(10, n)): Promise<number[]> {
  for (let i = 0; i < warm; i++) await fn(i);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out.sort((a, b) => a - b);
}

/** `p50 / p99` formatted in ms. */
export function fmt(sorted: number[]): string {
  return `${percentile(sorted, 50).toFixed(2)} / ${percentile(sorted, 99).toFixed(2)}`;
}
