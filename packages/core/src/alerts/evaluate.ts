/**
 * A rule judged on one machine. A single condition gives one verdict per series (each mount, each
 * interface alerts on its own); several conditions joined by AND give one verdict for the machine,
 * holding when every condition holds on at least one of its series. nodata holds on a machine with
 * no series at all, which is what it is for.
 */
import { judge, parseFunction, type JudgePoints } from './functions.ts';
import type { AlertCondition } from './schema.ts';

/** One series of one machine, points oldest first. */
export interface SeriesPoints {
  labels: Record<string, string>;
  points: JudgePoints;
}

/** One verdict: the series it is about (`{}` for a machine-wide one), whether it holds, and the value judged. */
export interface Verdict {
  key: string;
  labels: Record<string, string>;
  holds: boolean;
  value: number | null;
}

/** A stable key of a label set (sorted), used to tell one series' alert from another's. */
export function labelsKey(labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  return keys.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',');
}

function judgeAll(c: AlertCondition, series: readonly SeriesPoints[], nowMs: number): Verdict[] {
  const fn = parseFunction(c.fn);
  if (typeof fn === 'string') throw new Error(`stored function ${c.fn} does not parse: ${fn}`);
  if (series.length === 0) {
    return fn.name === 'nodata' ? [{ key: '', labels: {}, holds: true, value: null }] : [];
  }
  return series.map((s) => {
    const j = judge(fn, c.op, c.threshold, s.points, nowMs);
    return { key: labelsKey(s.labels), labels: s.labels, holds: j.triggered, value: j.value };
  });
}

/** Verdicts of `conditions` on one machine; `series[i]` holds condition i's series. */
export function evaluateConditions(conditions: readonly AlertCondition[], series: readonly (readonly SeriesPoints[])[], nowMs: number): Verdict[] {
  if (conditions.length === 1) return judgeAll(conditions[0]!, series[0] ?? [], nowMs);
  let value: number | null = null;
  let holds = true;
  conditions.forEach((c, i) => {
    const hit = judgeAll(c, series[i] ?? [], nowMs).find((v) => v.holds);
    if (!hit) holds = false;
    else if (i === 0) value = hit.value;
  });
  return [{ key: '', labels: {}, holds, value }];
}

/** Most points a condition needs, and how far back (ms) to read them at a 10 s collection period. */
export function lookbackMs(conditions: readonly AlertCondition[], periodMs = 10_000): number {
  let most = 60_000;
  for (const c of conditions) {
    const fn = parseFunction(c.fn);
    if (typeof fn === 'string') continue;
    // Three periods per point: a late or lost push must not make a rule short of points.
    const need = fn.name === 'nodata' ? fn.seconds * 1000 + periodMs : (fn.n + 1) * periodMs * 3;
    most = Math.max(most, need);
  }
  return most;
}
