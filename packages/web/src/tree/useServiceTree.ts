/**
 * The lazily loaded service tree: children are fetched per node on first expand and kept in a map
 * keyed by parent path ('' for the roots). `refresh` re-reads every list already loaded, so a
 * create, rename, move or delete anywhere shows up without collapsing what the user opened.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError } from '../api.ts';
import type { NodeView } from '../types.ts';

const ROOTS = '';

export interface ServiceTree {
  /** Children by parent path; '' holds the roots. A path absent from the map is not loaded yet. */
  children: ReadonlyMap<string, NodeView[]>;
  error: string | undefined;
  /** Load the children of `path` (no-op when loaded). */
  load(path: string): Promise<void>;
  /** Re-read every loaded list. */
  refresh(): Promise<void>;
}

async function fetchChildren(parent: string): Promise<NodeView[]> {
  const res = await api.get<{ items: NodeView[] }>('/nodes', parent === ROOTS ? undefined : { under: parent });
  return res.items;
}

/** State and loaders of the tree in the side bar. */
export function useServiceTree(): ServiceTree {
  const [children, setChildren] = useState<ReadonlyMap<string, NodeView[]>>(new Map());
  const [error, setError] = useState<string>();
  const current = useRef(children);
  current.current = children;

  const load = useCallback(async (path: string) => {
    if (current.current.has(path)) return;
    try {
      const items = await fetchChildren(path);
      setChildren((m) => new Map(m).set(path, items));
      setError(undefined);
    } catch (err) {
      // A node that vanished (deleted or renamed elsewhere) simply has no children to show.
      if (err instanceof ApiError && err.status === 404) setChildren((m) => new Map(m).set(path, []));
      else setError((err as Error).message);
    }
  }, []);

  const refresh = useCallback(async () => {
    const keys = [ROOTS, ...[...current.current.keys()].filter((k) => k !== ROOTS)];
    const results = await Promise.allSettled(keys.map(fetchChildren));
    const next = new Map<string, NodeView[]>();
    results.forEach((r, i) => {
      const key = keys[i];
      if (key !== undefined && r.status === 'fulfilled') next.set(key, r.value);
    });
    setChildren(next);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected' && !(r.reason instanceof ApiError && r.reason.status === 404));
    setError(failed ? (failed.reason as Error).message : undefined);
  }, []);

  useEffect(() => {
    void load(ROOTS);
  }, [load]);

  return { children, error, load, refresh };
}

/** The loaded view of the node at `path`, if its parent's children are loaded. */
export function nodeAt(tree: Pick<ServiceTree, 'children'>, path: string): NodeView | undefined {
  return tree.children.get(parentOf(path) ?? ROOTS)?.find((n) => n.path === path);
}

/** The paths of every ancestor of `path`, root first (`a.b.c` → `a`, `a.b`). */
export function ancestorsOf(path: string): string[] {
  const parts = path.split('.');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('.'));
}

/** The parent path of `path`, or null for a root. */
export function parentOf(path: string): string | null {
  const i = path.lastIndexOf('.');
  return i < 0 ? null : path.slice(0, i);
}
