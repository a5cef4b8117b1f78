/**
 * Unified diffs between two sets of generated files, as `diff -u` prints them (jsdiff does the
 * line diff). Files are compared by path; a file present on one side only diffs against empty.
 */
import { createHash } from 'node:crypto';
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import type { RenderedFile } from './model.ts';

/** Diffs above this many characters are stored cut, with a note: the files themselves are kept whole. */
export const MAX_DIFF_CHARS = 2_000_000;

/** sha256 of a string, hex. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * JSON with object keys sorted at every level: a settings snapshot read back from jsonb (which
 * reorders keys) hashes the same as the object it was written from.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** The digest of a file set: over each path and its content digest, in order. */
export function filesDigest(files: readonly { path: string; sha256: string }[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(`${f.path}\0${f.sha256}\n`);
  return h.digest('hex');
}

/**
 * The unified diff from `before` to `after`, labelled with version numbers (`v0` is "nothing
 * published"); empty when the files are identical.
 */
export function diffFiles(before: readonly RenderedFile[], after: readonly RenderedFile[], fromLabel: string, toLabel: string): string {
  const old = new Map(before.map((f) => [f.path, f.content]));
  const now = new Map(after.map((f) => [f.path, f.content]));
  const paths = [...after.map((f) => f.path), ...before.map((f) => f.path).filter((p) => !now.has(p))];
  const parts: string[] = [];
  for (const path of paths) {
    const a = old.get(path);
    const b = now.get(path);
    if (a === b) continue;
    parts.push(
      createTwoFilesPatch(a === undefined ? '/dev/null' : `a/${path}`, b === undefined ? '/dev/null' : `b/${path}`, a ?? '', b ?? '', fromLabel, toLabel, {
        context: 3,
        headerOptions: FILE_HEADERS_ONLY,
      }),
    );
  }
  const text = parts.join('');
  if (text.length <= MAX_DIFF_CHARS) return text;
  const cut = text.lastIndexOf('\n', MAX_DIFF_CHARS);
  return `${text.slice(0, cut + 1)}\\ canopy: diff cut at ${MAX_DIFF_CHARS} characters of ${text.length}; compare the versions' files for the rest\n`;
}

/** Lines added and removed in a unified diff. */
export function diffStat(diff: string): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const line of diff.split('\n')) {
    if (line.startsWith('+') && !line.startsWith('+++ ')) added++;
    else if (line.startsWith('-') && !line.startsWith('--- ')) removed++;
  }
  return { added, removed };
}
