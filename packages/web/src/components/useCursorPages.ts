/**
 * Paging over a cursor API (`{items, nextCursor, total}`): keeps the cursor of every page seen so
 * "previous" works without offsets. Changing `key` (filters, node) starts again at page one.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { messageOf } from '../api.ts';
import type { Page } from '../types.ts';

export interface CursorPages<T> {
  page: Page<T> | undefined;
  /** Zero-based index of the page on screen. */
  index: number;
  loading: boolean;
  error: string | undefined;
  hasNext: boolean;
  next(): void;
  prev(): void;
  reload(): void;
}

/** Page through `fetchPage`; `key` identifies the query (refetch from the start when it changes). */
export function useCursorPages<T>(key: string, fetchPage: (cursor: string | undefined) => Promise<Page<T>>): CursorPages<T> {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [index, setIndex] = useState(0);
  const [page, setPage] = useState<Page<T>>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string>();
  const [tick, setTick] = useState(0);
  const fetchRef = useRef(fetchPage);
  fetchRef.current = fetchPage;

  useEffect(() => {
    setCursors([undefined]);
    setIndex(0);
  }, [key]);

  const cursor = cursors[index];
  useEffect(() => {
    let stale = false;
    setLoading(true);
    fetchRef.current(cursor).then(
      (p) => {
        if (stale) return;
        setPage(p);
        setError(undefined);
        setCursors((cs) => (p.nextCursor ? [...cs.slice(0, index + 1), p.nextCursor] : cs.slice(0, index + 1)));
      },
      (err: unknown) => !stale && setError(messageOf(err)),
    ).finally(() => !stale && setLoading(false));
    return () => {
      stale = true;
    };
  }, [key, cursor, index, tick]);

  const next = useCallback(() => setIndex((i) => i + 1), []);
  const prev = useCallback(() => setIndex((i) => Math.max(0, i - 1)), []);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { page, index, loading, error, hasNext: cursors.length > index + 1, next, prev, reload };
}
