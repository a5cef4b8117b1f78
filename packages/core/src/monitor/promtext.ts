/** The Prometheus text exposition format (version 0.0.4): written by the agent's /metrics, read from collect scripts. */
import { parseSeriesKey, seriesKey, type SeriesLabels } from './series.ts';

export interface ExpositionFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'untyped';
  samples: { labels: SeriesLabels; value: number }[];
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Families as Prometheus text; HELP text escaped as the format requires. */
export function renderExposition(families: ExpositionFamily[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${f.help.replaceAll('\\', '\\\\').replaceAll('\n', '\\n')}`);
    lines.push(`# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) lines.push(`${seriesKey(f.name, s.labels)} ${formatValue(s.value)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Samples of a Prometheus text document (a collect script's output). Comments, timestamps and
 * histogram/summary structure are accepted; every line becomes one sample. Bad lines are reported,
 * not fatal, so one typo in a plugin does not drop its other metrics.
 */
export function parseExposition(text: string, limit = 1000): { samples: { name: string; labels: SeriesLabels; value: number }[]; errors: string[] } {
  const samples: { name: string; labels: SeriesLabels; value: number }[] = [];
  const errors: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (samples.length >= limit) {
      errors.push(`more than ${limit} samples; the rest are dropped`);
      break;
    }
    const close = line.lastIndexOf('}');
    const keyEnd = close >= 0 ? close + 1 : line.search(/\s/);
    if (keyEnd <= 0) {
      errors.push(`no value: ${line.slice(0, 80)}`);
      continue;
    }
    const rest = line.slice(keyEnd).trim().split(/\s+/);
    const v = rest[0] === '+Inf' ? Infinity : rest[0] === '-Inf' ? -Infinity : Number(rest[0]);
    if (rest[0] === undefined || rest[0] === '' || (Number.isNaN(v) && rest[0] !== 'NaN')) {
      errors.push(`bad value: ${line.slice(0, 80)}`);
      continue;
    }
    try {
      const { name, labels } = parseSeriesKey(line.slice(0, keyEnd));
      samples.push({ name, labels, value: v });
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  return { samples, errors };
}
