/**
 * Server field issues placed on nested form fields (`domainUris.2.uri`, `ports.0.port`): the
 * console's `applyIssues` places issues by their first segment only, which suits flat forms.
 */
import type { FormInstance } from 'antd';
import { ApiError } from '../../api.ts';
import { fieldOf } from '../../components/issues.ts';

type Name = (string | number)[];

const startsWith = (path: Name, prefix: Name): boolean => prefix.length <= path.length && prefix.every((p, i) => String(p) === String(path[i]));

/**
 * Clear the form's old errors, then put each issue of `err` on the deepest registered field its
 * path names (or, for an issue about a whole list entry, that entry's first field). Returns the
 * message to show above the form, or undefined when every issue found a field.
 */
export function placeIssues(form: FormInstance, err: unknown): string | undefined {
  const registered = form.getFieldsError().map((f) => f.name as Name);
  const stale = form.getFieldsError().filter((f) => f.errors.length > 0).map((f) => ({ name: f.name, errors: [] as string[] }));
  form.setFields(stale);
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
  const byField = new Map<string, { name: Name; errors: string[] }>();
  let unplaced = err.issues.length === 0;
  for (const issue of err.issues) {
    const path = fieldOf(issue.path);
    const holder = registered.filter((n) => startsWith(path, n)).sort((a, b) => b.length - a.length)[0] ?? registered.find((n) => startsWith(n, path));
    if (!holder || path.length === 0) {
      unplaced = true;
      continue;
    }
    const key = holder.join('\u0000');
    const entry = byField.get(key) ?? { name: holder, errors: [] };
    entry.errors.push(issue.message);
    byField.set(key, entry);
  }
  form.setFields([...byField.values()]);
  return unplaced ? err.message : undefined;
}
