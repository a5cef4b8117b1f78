/**
 * CSV for the machine import: a header row, then one machine per row. Lists (`ips`, `nodes`) are
 * split on `;` or spaces, labels are `k=v;k=v`. A row that cannot be read as it stands (too few or
 * too many cells, a label without `=`) becomes a record carrying its problems, so that row is
 * reported as failed and the file's other rows still land; only a file that is not CSV at all is
 * refused whole.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { ValidationError } from '@canopy/core';

const problems = new WeakMap<object, string[]>();

/** Why the row behind `record` cannot be imported, if csvRecords found a reason. */
export function problemsOf(record: unknown): string[] | undefined {
  return record !== null && typeof record === 'object' ? problems.get(record) : undefined;
}

/** `k=v;k=v` as an object; a pair without `=` or with an empty key is an error, not `k=k`. */
function parseLabels(cell: string, errors: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of cell.split(';').map((p) => p.trim()).filter(Boolean)) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? '' : pair.slice(0, eq).trim();
    if (eq < 0 || key === '') {
      errors.push(`labels: '${pair}' is not key=value`);
      continue;
    }
    out[key] = pair.slice(eq + 1).trim();
  }
  return out;
}

/** Turn CSV text into records keyed by header (camelCased); rows that cannot be read carry their problems. */
export function csvRecords(text: string): Record<string, unknown>[] {
  // PostgreSQL cannot store NUL in text or jsonb: refuse the file rather than fail half-way.
  if (text.includes('\u0000')) throw new ValidationError('malformed CSV: contains a NUL byte', [{ path: ['body'], message: 'contains a NUL byte' }]);
  let raw: string[][];
  try {
    raw = parseCsv(text, { skip_empty_lines: true, trim: true, bom: true, relax_column_count: true });
  } catch (err) {
    throw new ValidationError(`malformed CSV: ${(err as Error).message}`, [{ path: ['body'], message: (err as Error).message }]);
  }
  const [header, ...rows] = raw;
  if (!header) return [];
  const keys = header.map((h) => h.trim().replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()));
  return rows.map((cells) => {
    const out: Record<string, unknown> = {};
    const errors: string[] = [];
    if (cells.length !== keys.length) errors.push(`row has ${cells.length} cell(s), the header has ${keys.length}`);
    for (const [i, key] of keys.entries()) {
      const v = cells[i] ?? '';
      if (v === '') continue;
      if (key === 'ips' || key === 'nodes') out[key] = v.split(/[;\s]+/).filter(Boolean);
      else if (key === 'labels') out[key] = parseLabels(v, errors);
      else if (key === 'cpuCores' || key === 'memoryMb' || key === 'diskGb') out[key] = /^\d+$/.test(v) ? Number(v) : v;
      else out[key] = v;
    }
    if (errors.length > 0) problems.set(out, errors);
    return out;
  });
}
