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

/** The command that ran: its long flags (`--under`) and argument names, to speak of fields as the user typed them. */
export interface CommandShape {
  flags: string[];
  args: string[];
}

const API_PARTS = new Set(['querystring', 'body', 'params']);

/**
 * How the user names an API field on this command line: its flag (`under` → `--under`, `ips` →
 * `--ip`) or its argument (`<path>`). A field the command has no flag for (part of an argument,
 * or filled in by the command) keeps its plain name rather than pointing at a flag that does not exist.
 */
function cliName(field: string, where: string, shape?: CommandShape): string {
  const kebab = field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  if (shape) {
    for (const f of [`--${kebab}`, `--${kebab.replace(/s$/, '')}`]) if (shape.flags.includes(f)) return f;
    if (shape.args.includes(field) || shape.args.includes(kebab)) return `<${kebab}>`;
  }
  if (where === 'params') return `<${kebab}>`;
  return where === 'querystring' && !shape ? `--${kebab}` : field;
}

/** An API issue path (`querystring.under`, `body.ips.0`) as the CLI user knows it (`--under`, `--ip[0]`). */
function issuePath(path: unknown[], shape?: CommandShape): string {
  const [where, field, ...rest] = path.map(String);
  if (where === undefined || !API_PARTS.has(where) || field === undefined) return path.join('.');
  return `${cliName(field, where, shape)}${rest.map((r) => (/^\d+$/.test(r) ? `[${r}]` : `.${r}`)).join('')}`;
}

/** The server's words for the request (`?under=`, `invalid querystring: under …`) rewritten as CLI words. */
function cliDetail(detail: string, issues: IssueLike[], shape?: CommandShape): string {
  const generated = /^invalid (querystring|body|params): /.exec(detail);
  if (generated && issues.length > 0) {
    return `invalid ${issues.map((i) => `${Array.isArray(i.path) ? issuePath(i.path, shape) : ''}: ${typeof i.message === 'string' ? i.message : 'invalid'}`).join('; ')}`;
  }
  return detail.replace(/\?([a-zA-Z][a-zA-Z0-9]*)=(?![\w-])/g, (_m, field: string) => cliName(field, 'querystring', shape));
}

/**
 * One readable line per error (`error: node 'x' not found (not_found)`) and the field issues under
 * it, naming the command's flags and arguments rather than the API's query parameters and body
 * fields. API errors and core domain errors both carry `code` and `issues`; they are read by shape so
 * the CLI need not load @canopy/core to print them.
 */
export function formatError(err: unknown, shape?: CommandShape): string {
  if (!(err instanceof Error)) return `error: ${String(err)}\n`;
  const e = err as Error & { code?: unknown; issues?: unknown; detail?: unknown };
  const isDomain = typeof e.code === 'string' && /^[a-z_]+$/.test(e.code) && (e.name === 'CanopyApiError' || 'issues' in e || 'details' in e);
  const issues = Array.isArray(e.issues) ? (e.issues as IssueLike[]) : [];
  const message = e.name === 'CanopyApiError' ? cliDetail(e.message, issues, shape) : e.message;
  let out = `error: ${message}${isDomain ? ` (${e.code as string})` : ''}\n`;
  for (const i of issues) {
    const path = Array.isArray(i.path) ? (e.name === 'CanopyApiError' ? issuePath(i.path, shape) : i.path.join('.')) : '';
    const text = typeof i.message === 'string' ? i.message : 'invalid';
    out += `  ${path ? `${path}: ` : ''}${text}\n`;
  }
  return out;
}
