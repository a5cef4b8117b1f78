/**
 * Series identity: a metric name and its labels, written as Prometheus writes a series
 * (`node_cpu_seconds_total{cpu="0",mode="idle"}`, labels sorted by name). One canonical string per
 * series lets the agent, the store and the query API agree on identity without re-sorting maps.
 */

/** Prometheus metric names (colons allowed, as recording rules use them). */
export const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$/;
/** Prometheus label names; `__` is reserved, as in Prometheus. */
export const LABEL_NAME_RE = /^(?!__)[a-zA-Z_][a-zA-Z0-9_]{0,99}$/;
/** Label values are free text up to this length. */
export const LABEL_VALUE_MAX = 256;

export type SeriesLabels = Record<string, string>;

function escapeValue(v: string): string {
  return v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"');
}

/** The canonical key of a series; labels with empty values are dropped, as Prometheus does. */
export function seriesKey(name: string, labels: SeriesLabels = {}): string {
  const names = Object.keys(labels).filter((k) => labels[k] !== '').sort();
  if (names.length === 0) return name;
  return `${name}{${names.map((k) => `${k}="${escapeValue(labels[k] as string)}"`).join(',')}}`;
}

/** Name and labels of a key made by `seriesKey` (or written in Prometheus text format); throws on bad syntax. */
export function parseSeriesKey(key: string): { name: string; labels: SeriesLabels } {
  const brace = key.indexOf('{');
  const name = brace < 0 ? key : key.slice(0, brace);
  if (!METRIC_NAME_RE.test(name)) throw new Error(`bad metric name in "${key.slice(0, 80)}"`);
  const labels: SeriesLabels = {};
  if (brace < 0) return { name, labels };
  if (!key.endsWith('}')) throw new Error(`unterminated labels in "${key.slice(0, 80)}"`);
  const body = key.slice(brace + 1, -1);
  let i = 0;
  while (i < body.length) {
    const eq = body.indexOf('=', i);
    if (eq < 0 || body[eq + 1] !== '"') throw new Error(`bad label in "${key.slice(0, 80)}"`);
    const label = body.slice(i, eq).trim();
    if (!LABEL_NAME_RE.test(label) && label !== '__name__') throw new Error(`bad label name "${label.slice(0, 40)}"`);
    let j = eq + 2;
    let value = '';
    for (; j < body.length && body[j] !== '"'; j++) {
      const c = body[j] as string;
      if (c === '\\') {
        const n = body[++j];
        value += n === 'n' ? '\n' : (n ?? '');
      } else value += c;
    }
    if (j >= body.length) throw new Error(`unterminated label value in "${key.slice(0, 80)}"`);
    labels[label] = value;
    i = j + 1;
    while (body[i] === ',' || body[i] === ' ') i++;
  }
  return { name, labels };
}

/** True when `labels` holds every pair of `match` (a missing label matches an empty value). */
export function labelsMatch(labels: SeriesLabels, match: SeriesLabels | undefined): boolean {
  if (!match) return true;
  for (const [k, v] of Object.entries(match)) if ((labels[k] ?? '') !== v) return false;
  return true;
}

/** Parse a label filter written `mode=idle,device=sda` (the query API's `match`). */
export function parseMatch(text: string): SeriesLabels {
  const out: SeriesLabels = {};
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq < 1) throw new Error(`"${part.slice(0, 40)}" is not label=value`);
    const k = part.slice(0, eq).trim();
    if (!LABEL_NAME_RE.test(k)) throw new Error(`"${k.slice(0, 40)}" is not a label name`);
    out[k] = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return out;
}
