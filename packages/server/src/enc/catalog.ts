/**
 * The classes catalog: which Puppet classes the code base offers, as published by it over HTTP.
 * Pure functions only; fetching the file and storing the catalog belong to the service and repo.
 */
import { ValidationError, classNameProblem, classParamProblem, METAPARAMETERS } from '@canopy/core';
import type { Catalog, CatalogClass, EncClasses, FieldIssue } from '@canopy/core';

/** Largest catalog file accepted, in characters; a real code base publishes a few hundred lines. */
export const CATALOG_MAX_CHARS = 2_000_000;
/** Most classes one catalog may list. */
export const CATALOG_MAX_CLASSES = 10_000;
/** At most this many bad lines are named in one error, so the message stays readable. */
const MAX_REPORTED = 20;

/**
 * Parse the published classes file. Plain text: one class per line, blank lines and `#` comments
 * ignored. JSON (by content type, or when the text starts with `[`): an array of names or of
 * `{name, parameters?}`. Throws a ValidationError naming every bad line or element.
 */
export function parseCatalog(text: string, contentType?: string): Catalog {
  if (text.length > CATALOG_MAX_CHARS) {
    throw new ValidationError(`catalog is larger than ${CATALOG_MAX_CHARS} characters`, [{ path: [], message: 'too large' }]);
  }
  // A text line can never start with '[', so sniffing is safe whatever type the web server sends.
  const json = /\bjson\b/i.test(contentType ?? '') || text.trimStart().startsWith('[');
  const { entries, issues } = json ? parseJson(text) : parseText(text);
  if (issues.length > 0) {
    const shown = issues.slice(0, MAX_REPORTED);
    const more = issues.length > shown.length ? ` (and ${issues.length - shown.length} more)` : '';
    throw new ValidationError(`catalog has ${issues.length} bad ${json ? 'element' : 'line'}(s)${more}: ${shown.map((i) => i.message).join('; ')}`, shown);
  }
  if (entries.length === 0) {
    throw new ValidationError('catalog lists no classes', [{ path: [], message: 'no classes' }]);
  }
  const classes = mergeDuplicates(entries);
  if (classes.length > CATALOG_MAX_CLASSES) {
    throw new ValidationError(`catalog lists more than ${CATALOG_MAX_CLASSES} classes`, [{ path: [], message: 'too many classes' }]);
  }
  return { classes };
}

/**
 * Problems with `classes` (an association's or the default set) against the catalog: a class the
 * catalog does not list is refused; so is a parameter the catalog does not list, when it lists any.
 * Metaparameters such as `stage` are always allowed.
 */
export function catalogIssues(classes: EncClasses, catalog: Catalog, base: (string | number)[] = ['classes']): FieldIssue[] {
  const known = new Map(catalog.classes.map((c) => [c.name, c.parameters]));
  const issues: FieldIssue[] = [];
  for (const [name, params] of Object.entries(classes)) {
    if (!known.has(name)) {
      issues.push({ path: [...base, name], message: `class '${name}' is not in the classes catalog` });
      continue;
    }
    const declared = known.get(name);
    if (declared === null || declared === undefined) continue;
    for (const param of Object.keys(params)) {
      if (!declared.includes(param) && !METAPARAMETERS.has(param)) {
        issues.push({ path: [...base, name, param], message: `class '${name}' has no parameter '${param}' in the catalog` });
      }
    }
  }
  return issues;
}

/** Throw a ValidationError when `classes` uses anything the catalog does not offer. */
export function assertInCatalog(classes: EncClasses, catalog: Catalog, base: (string | number)[] = ['classes']): void {
  const issues = catalogIssues(classes, catalog, base);
  if (issues.length > 0) throw new ValidationError(issues.map((i) => i.message).join('; '), issues);
}

interface Parsed {
  entries: CatalogClass[];
  issues: FieldIssue[];
}

function parseText(text: string): Parsed {
  const entries: CatalogClass[] = [];
  const issues: FieldIssue[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const name = line.startsWith('::') ? line.slice(2) : line;
    const problem = classNameProblem(name);
    if (problem) issues.push({ path: ['line', i + 1], message: `line ${i + 1} '${clip(line)}': ${problem}` });
    else entries.push({ name, parameters: null });
  });
  return { entries, issues };
}

function parseJson(text: string): Parsed {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return { entries: [], issues: [{ path: [], message: `not valid JSON: ${detail}` }] };
  }
  if (!Array.isArray(data)) return { entries: [], issues: [{ path: [], message: 'JSON catalog must be an array' }] };
  const entries: CatalogClass[] = [];
  const issues: FieldIssue[] = [];
  data.forEach((item: unknown, i) => {
    const entry = typeof item === 'string' ? { name: item } : item;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      issues.push({ path: [i], message: `element ${i}: must be a class name or {name, parameters}` });
      return;
    }
    const { name, parameters } = entry as { name?: unknown; parameters?: unknown };
    const bare = typeof name === 'string' && name.startsWith('::') ? name.slice(2) : name;
    const problem = typeof bare === 'string' ? classNameProblem(bare) : 'name must be a string';
    if (problem) issues.push({ path: [i, 'name'], message: `element ${i} '${clip(String(name))}': ${problem}` });
    const params = parseParams(parameters, i, issues);
    if (!problem && params !== undefined) entries.push({ name: bare as string, parameters: params });
  });
  return { entries, issues };
}

// undefined: the element was bad (issues recorded); null: the catalog does not list parameters.
function parseParams(value: unknown, i: number, issues: FieldIssue[]): string[] | null | undefined {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) {
    issues.push({ path: [i, 'parameters'], message: `element ${i}: parameters must be an array of names` });
    return undefined;
  }
  let ok = true;
  value.forEach((p: unknown, j) => {
    const problem = typeof p === 'string' ? classParamProblem(p) : 'must be a string';
    if (problem) {
      issues.push({ path: [i, 'parameters', j], message: `element ${i} parameter '${clip(String(p))}': ${problem}` });
      ok = false;
    }
  });
  return ok ? [...new Set(value as string[])].sort() : undefined;
}

// A class listed twice keeps one entry; its parameter lists are united.
function mergeDuplicates(entries: CatalogClass[]): CatalogClass[] {
  const byName = new Map<string, CatalogClass>();
  for (const e of entries) {
    const seen = byName.get(e.name);
    if (!seen) byName.set(e.name, e);
    else if (e.parameters !== null) {
      const union = new Set([...(seen.parameters ?? []), ...e.parameters]);
      byName.set(e.name, { name: e.name, parameters: [...union].sort() });
    }
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
