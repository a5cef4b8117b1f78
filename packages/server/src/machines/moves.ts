/**
 * Import rows written before a rename: a row naming `corp.search.query` after `tree rename
 * corp.search find` binds to `corp.find.query`, and its report says so. Old paths are looked up
 * once per import, before any write begins (the lookup reads the path history outside the import's
 * transactions), and each record's `nodes` is rewritten to the current paths.
 */
import type { MachineService } from './service.ts';

const notes = new WeakMap<object, string[]>();
const followed = new WeakMap<object, Map<string, string>>();

/** What the import did to this record's row that the row did not say (`a moved to b`). */
export function notesOf(record: unknown): { notes: string[] } | Record<string, never> {
  const n = record !== null && typeof record === 'object' ? notes.get(record) : undefined;
  return n ? { notes: n } : {};
}

/**
 * A failed row's error in the row's own words: the new paths it was rewritten to become the old
 * paths it named again, so a row refused on a node the user may not see does not learn where it went.
 */
export function asWritten(record: unknown, message: string): string {
  const map = record !== null && typeof record === 'object' ? followed.get(record) : undefined;
  if (!map) return message;
  let out = message;
  for (const [old, now] of map) out = out.replaceAll(now, old);
  return out;
}

/** Rewrite old node paths in each record's `nodes` to where those nodes are now, noting each change. */
export async function followMoves(machines: MachineService, records: unknown[]): Promise<void> {
  const named = new Set<string>();
  for (const rec of records) for (const p of nodesOf(rec) ?? []) if (!machines.nodeExists(p)) named.add(p);
  const moved = new Map<string, string>();
  for (const p of named) {
    const now = await machines.currentPathOf(p);
    if (now !== undefined && now !== p) moved.set(p, now);
  }
  if (moved.size === 0) return;
  for (const rec of records) {
    const list = nodesOf(rec);
    if (!list || !list.some((p) => moved.has(p))) continue;
    (rec as { nodes: unknown[] }).nodes = list.map((p) => moved.get(p) ?? p);
    const olds = [...new Set(list.filter((p) => moved.has(p)))];
    notes.set(rec as object, olds.map((p) => `${p} moved to ${moved.get(p)}`));
    followed.set(rec as object, new Map(olds.map((p) => [p, moved.get(p) as string])));
  }
}

function nodesOf(rec: unknown): string[] | undefined {
  const list = rec !== null && typeof rec === 'object' ? (rec as { nodes?: unknown }).nodes : undefined;
  return Array.isArray(list) && list.every((p) => typeof p === 'string') ? (list as string[]) : undefined;
}
