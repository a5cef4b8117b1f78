/** Server field issues shown next to the form fields they name. */
import type { FormInstance } from 'antd';
import { ApiError } from '../api.ts';

// The server prefixes an issue path with where the field was: the body, the query or the URL.
const LOCATIONS = new Set(['body', 'querystring', 'params']);

/** A field name for antd's Form from a server issue path (`['body','labels','team']` → `['labels','team']`). */
export function fieldOf(path: (string | number)[]): (string | number)[] {
  return path.length > 1 && LOCATIONS.has(String(path[0])) ? path.slice(1) : path;
}

/**
 * Put each issue of `err` on the form field it names, when the form has that field. Returns the
 * message to show above the form, or undefined when every issue found its field. `aliases` maps
 * a server field name to the form's (e.g. `user` → `subject`).
 */
export function applyIssues(form: FormInstance, fields: readonly string[], err: unknown, aliases: Record<string, string> = {}): string | undefined {
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
  const known = new Set(fields);
  const byField = new Map<string, string[]>();
  let unplaced = err.issues.length === 0;
  for (const issue of err.issues) {
    const first = String(fieldOf(issue.path)[0] ?? '');
    const name = aliases[first] ?? first;
    if (!known.has(name)) {
      unplaced = true;
      continue;
    }
    byField.set(name, [...(byField.get(name) ?? []), issue.message]);
  }
  form.setFields([...byField].map(([name, errors]) => ({ name, errors })));
  return unplaced ? err.message : undefined;
}
