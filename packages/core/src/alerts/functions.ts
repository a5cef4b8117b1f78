/**
 * Open-Falcon's judge functions over one series' points. `#n` counts points, not seconds: the judge
 * looks at the newest n points whatever their age, and says nothing until it has that many
 * (falcon-plus `judge/store/func.go`: `HistoryData(limit)` with `isEnough`). `diff`/`pdiff` take the
 * newest point minus each of the n before it and fire when any difference holds. `nodata(s)` is
 * Canopy's own: no point in the last s seconds.
 */

export const OPERATORS = ['==', '!=', '<', '<=', '>', '>='] as const;
export type Operator = (typeof OPERATORS)[number];

export const FUNCTION_NAMES = ['all', 'avg', 'max', 'min', 'sum', 'diff', 'pdiff', 'nodata'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** A parsed function: `n` points for the `#n` ones, `seconds` for nodata. */
export type JudgeFunction =
  | { name: Exclude<FunctionName, 'nodata'>; n: number }
  | { name: 'nodata'; seconds: number };

/** Most points one function may look back over (Open-Falcon's judge keeps a short history too). */
export const MAX_POINTS = 100;
const FN_RE = /^(all|avg|max|min|sum|diff|pdiff)\(#(\d{1,3})\)$|^nodata\((\d{1,6})\)$/;

/** Parse `all(#3)`, `pdiff(#2)`, `nodata(60)`; the reason as a string when it is not one. */
export function parseFunction(text: string): JudgeFunction | string {
  const m = FN_RE.exec(text.replaceAll(' ', ''));
  if (!m) return 'must be one of all(#n), avg(#n), max(#n), min(#n), sum(#n), diff(#n), pdiff(#n), nodata(seconds)';
  if (m[3] !== undefined) {
    const seconds = Number(m[3]);
    if (seconds < 1 || seconds > 7 * 86_400) return 'nodata takes 1 to 604800 seconds';
    return { name: 'nodata', seconds };
  }
  const n = Number(m[2]);
  if (n < 1 || n > MAX_POINTS) return `#n must be 1 to ${MAX_POINTS} points`;
  return { name: m[1] as Exclude<FunctionName, 'nodata'>, n };
}

/** The canonical text of a function (what the API stores and shows). */
export function functionText(fn: JudgeFunction): string {
  return fn.name === 'nodata' ? `nodata(${fn.seconds})` : `${fn.name}(#${fn.n})`;
}

/** `left op right`. */
export function compareOp(left: number, op: Operator, right: number): boolean {
  switch (op) {
    case '==': return left === right;
    case '!=': return left !== right;
    case '<': return left < right;
    case '<=': return left <= right;
    case '>': return left > right;
    case '>=': return left >= right;
  }
}

/** What one function said about one series: fired or not, and the value it compared. */
export interface Judgement {
  triggered: boolean;
  /** The compared value (aggregate, difference or newest point); null when there was none. */
  value: number | null;
}

const NOT_ENOUGH: Judgement = { triggered: false, value: null };

/** Points of one series, oldest first, as `[timestampMs, value]`. */
export type JudgePoints = readonly (readonly [number, number])[];

/** Judge one series: `points` oldest first; `nowMs` only matters to nodata. */
export function judge(fn: JudgeFunction, op: Operator, threshold: number, points: JudgePoints, nowMs: number): Judgement {
  if (fn.name === 'nodata') {
    const last = points.at(-1);
    const fresh = last !== undefined && last[0] > nowMs - fn.seconds * 1000;
    return { triggered: !fresh, value: last ? last[1] : null };
  }
  const need = fn.name === 'diff' || fn.name === 'pdiff' ? fn.n + 1 : fn.n;
  if (points.length < need) return NOT_ENOUGH;
  // Newest first, as Open-Falcon's history is.
  const vs: number[] = [];
  for (let i = points.length - 1; vs.length < need; i--) vs.push(points[i]![1]);
  const newest = vs[0]!;
  switch (fn.name) {
    case 'all':
      return { triggered: vs.every((v) => compareOp(v, op, threshold)), value: newest };
    case 'sum':
    case 'avg': {
      const sum = vs.reduce((a, b) => a + b, 0);
      const value = fn.name === 'sum' ? sum : sum / vs.length;
      return { triggered: compareOp(value, op, threshold), value };
    }
    case 'max':
    case 'min': {
      const value = fn.name === 'max' ? Math.max(...vs) : Math.min(...vs);
      return { triggered: compareOp(value, op, threshold), value };
    }
    case 'diff':
    case 'pdiff': {
      let value: number | null = null;
      for (let i = 1; i < vs.length; i++) {
        const base = vs[i]!;
        if (fn.name === 'pdiff' && base === 0) continue;
        const d = fn.name === 'diff' ? newest - base : ((newest - base) / base) * 100;
        value = d;
        if (compareOp(d, op, threshold)) return { triggered: true, value: d };
      }
      return { triggered: false, value };
    }
  }
}
