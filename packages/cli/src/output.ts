/** What the CLI prints: aligned tables for people, raw JSON for scripts, and one-line errors. */

/** A mistake on the command line (or a missing login) that the user fixes by typing differently. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Cell = string | number | boolean | null | undefined;

function text(c: Cell): string {
  if (c === null || c === undefined || c === '') return '-';
  return String(c).replace(/[\r\n\t]+/g, ' ');
}

/**
 * Column-aligned table with an upper-case header row; the last column is not padded, so long
 * descriptions do not drag trailing spaces. `empty` is printed instead when there are no rows.
 */
export function table(headers: string[], rows: Cell[][], empty = '(none)\n'): string {
  if (rows.length === 0) return empty;
  const cells = [headers.map((h) => h.toUpperCase()), ...rows.map((r) => r.map(text))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const last = headers.length - 1;
  return cells.map((r) => r.map((c, i) => (i === last ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd() + '\n').join('');
}

/** `key: value` lines with the keys aligned, for showing one object. */
export function fields(pairs: [string, Cell][]): string {
  const w = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(w)} ${text(v)}\n`).join('');
}

/** `{a: 'b'}` as `a=b,c=d` (or `-`). */
export function labels(l: Record<string, string>): string {
  return Object.entries(l).map(([k, v]) => `${k}=${v}`).join(',');
}

/** JSON for `--json`: pretty, one trailing newline. */
export function json(data: unknown): string {
  return `${JSON.stringify(data, null, 2)}\n`;
}

interface IssueLike {
  path?: unknown;
  message?: unknown;
}

/**
 * One readable line per error (`error: node 'x' not found (not_found)`) and the field issues under
 * it. API errors and core domain errors both carry `code` and `issues`; they are read by shape so
 * the CLI need not load @canopy/core to print them.
 */
export function formatError(err: unknown): string {
  if (!(err instanceof Error)) return `error: ${String(err)}\n`;
  const e = err as Error & { code?: unknown; issues?: unknown; detail?: unknown };
  const isDomain = typeof e.code === 'string' && /^[a-z_]+$/.test(e.code) && (e.name === 'CanopyApiError' || 'issues' in e || 'details' in e);
  let out = `error: ${e.message}${isDomain ? ` (${e.code as string})` : ''}\n`;
  const issues = Array.isArray(e.issues) ? (e.issues as IssueLike[]) : [];
  for (const i of issues) {
    const path = Array.isArray(i.path) ? i.path.join('.') : '';
    const message = typeof i.message === 'string' ? i.message : 'invalid';
    out += `  ${path ? `${path}: ` : ''}${message}\n`;
  }
  return out;
}
