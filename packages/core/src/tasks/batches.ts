/**
 * Batch plans for jobs: how many hosts each batch takes. A size is a count (`10`), a share of the
 * hosts (`10%`, at least one), or a growth expression after BlueKing's (`5 *2`: 5, then 10, 20, …;
 * `1 +4`: 1, then 5, 9, …). A canary makes the first batch one host.
 */

/** A batch size as written by the operator. */
export type BatchSize = number | string;

const GROWTH_RE = /^\s*(\d+)\s*([*+])\s*(\d+)\s*$/;
const PERCENT_RE = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/;

/** Why `size` is not a batch size, or undefined when it is one. */
export function batchSizeProblem(size: BatchSize): string | undefined {
  if (typeof size === 'number') return Number.isInteger(size) && size >= 1 ? undefined : 'a count of hosts must be a whole number ≥ 1';
  if (/^\s*\d+\s*$/.test(size)) return Number(size) >= 1 ? undefined : 'a count of hosts must be ≥ 1';
  const pct = PERCENT_RE.exec(size);
  if (pct) return Number(pct[1]) > 0 && Number(pct[1]) <= 100 ? undefined : 'a share must be above 0% and at most 100%';
  const g = GROWTH_RE.exec(size);
  if (g) {
    if (Number(g[1]) < 1) return 'a growth expression must start at 1 or more';
    if (g[2] === '*' && Number(g[3]) < 1) return 'a growth factor must be at least 1';
    return undefined;
  }
  return 'must be a count (10), a share (10%) or a growth expression ("5 *2", "1 +4")';
}

/** The sizes of the batches that cover `total` hosts. */
export function planBatches(total: number, size: BatchSize, canary = false): number[] {
  const problem = batchSizeProblem(size);
  if (problem) throw new RangeError(problem);
  const out: number[] = [];
  let left = total;
  if (canary && left > 0) {
    out.push(1);
    left--;
  }
  const text = String(size);
  const pct = PERCENT_RE.exec(text);
  const g = GROWTH_RE.exec(text);
  let next = pct ? Math.max(1, Math.ceil((total * Number(pct[1])) / 100)) : g ? Number(g[1]) : Number(text);
  while (left > 0) {
    const n = Math.min(left, next);
    out.push(n);
    left -= n;
    if (g) next = g[2] === '*' ? next * Number(g[3]) : next + Number(g[3]);
  }
  return out;
}
