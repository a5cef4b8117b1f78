/** A whole list from one GET (`{items}`), re-read on demand after a change. */
import { useCallback, useEffect, useState } from 'react';
import { api, messageOf } from '../api.ts';

export interface ListState<T> {
  /** undefined while the first read runs (or after it failed). */
  items: T[] | undefined;
  error: string | undefined;
  reload(): Promise<void>;
}

/** The items of `GET path`. */
export function useList<T>(path: string): ListState<T> {
  const [items, setItems] = useState<T[]>();
  const [error, setError] = useState<string>();
  const reload = useCallback(async () => {
    try {
      setItems((await api.get<{ items: T[] }>(path)).items);
      setError(undefined);
    } catch (err) {
      setError(messageOf(err));
    }
  }, [path]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { items, error, reload };
}
