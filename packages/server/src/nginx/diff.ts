/**
 * Unified diffs between two sets of generated files, as `diff -u` prints them (jsdiff does the
 * line diff). Files are compared by path; a file present on one side only diffs against empty.
 */
import { createHash } from 'node:crypto';
import { FILE_HEADERS_ONLY, formatPatch, structuredPatch } from 'diff';
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
    parts.push(patchOf(a === undefined ? '/dev/null' : `a/${path}`, b === undefined ? '/dev/null' : `b/${path}`, a ?? '', b ?? '', fromLabel, toLabel));
  }
  const text = parts.join('');
  if (text.length <= MAX_DIFF_CHARS) return text;
  const cut = text.lastIndexOf('\n', MAX_DIFF_CHARS);
  return `${text.slice(0, cut + 1)}\\ canopy: diff cut at ${MAX_DIFF_CHARS} characters of ${text.length}; compare the versions' files for the rest\n`;
}

const CONTEXT = 3;

function linesIn(text: string, end: number): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * One file's unified diff. A backend change alters a few lines of a file of megabytes, so the
 * common head and tail (less the context lines) are cut off before the line diff runs, and the
 * hunks are moved back to their places: the same text `diff -u` gives, in milliseconds.
 */
function patchOf(oldName: string, newName: string, a: string, b: string, oldLabel: string, newLabel: string): string {
  const n = Math.min(a.length, b.length);
  let head = 0;
  while (head < n && a.charCodeAt(head) === b.charCodeAt(head)) head++;
  let tail = 0;
  while (tail < n - head && a.charCodeAt(a.length - 1 - tail) === b.charCodeAt(b.length - 1 - tail)) tail++;
  // Cut at line starts, CONTEXT whole lines before the first difference.
  let start = a.lastIndexOf('\n', head - 1) + 1;
  for (let k = 0; k < CONTEXT && start > 0; k++) start = start <= 1 ? 0 : a.lastIndexOf('\n', start - 2) + 1;
  // Keep the tail only from a line start, CONTEXT whole lines after the last difference.
  let endA = a.length - tail;
  let cut = a.indexOf('\n', endA === 0 ? 0 : endA - 1);
  for (let k = 0; k < CONTEXT && cut >= 0; k++) cut = a.indexOf('\n', cut + 1);
  endA = cut < 0 ? a.length : cut + 1;
  const keepTail = a.length - endA;
  const skipped = linesIn(a, start);
  const patch = structuredPatch(oldName, newName, a.slice(start, endA), b.slice(start, b.length - keepTail), oldLabel, newLabel, { context: CONTEXT });
  for (const h of patch.hunks) {
    h.oldStart += skipped;
    h.newStart += skipped;
  }
  return patch.hunks.length === 0 ? '' : formatPatch(patch, FILE_HEADERS_ONLY);
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
