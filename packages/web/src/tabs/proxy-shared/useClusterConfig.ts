/**
 * A proxy cluster's published config and its versions, kept current by the blocking watch
 * (`GET …/watch?version=N`): a version published by anyone — an apply elsewhere, or the server
 * re-rendering after a backend changed — appears without a reload.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, messageOf, request, seg } from '../../api.ts';
import type { Page } from '../../types.ts';
import type { ConfigView, ProxyKind, VersionView } from './model.ts';

const PAGE = 20;
/** How long one watch request waits on the server before it answers with no news. */
const WAIT = '50s';

export interface ClusterConfig {
  /** undefined while loading; null when nothing is published yet. */
  config: ConfigView | null | undefined;
  /** Newest first. */
  versions: VersionView[] | undefined;
  moreVersions: boolean;
  error: string | undefined;
  /** Re-read the config and the first page of versions. */
  reload(): Promise<void>;
  loadMoreVersions(): Promise<void>;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/** The published config of the `kind` cluster at `path`; `onPublished` hears of each new version. */
export function useClusterConfig(kind: ProxyKind, path: string, onPublished?: (v: ConfigView) => void): ClusterConfig {
  const base = `/${kind}/clusters/${seg(path)}`;
  const [config, setConfig] = useState<ConfigView | null>();
  const [versions, setVersions] = useState<VersionView[]>();
  const [cursor, setCursor] = useState<string>();
  const [error, setError] = useState<string>();
  // The newest version shown, so the watch asks only for what is newer.
  const shown = useRef(0);
  const notify = useRef(onPublished);
  notify.current = onPublished;

  const reload = useCallback(async () => {
    try {
      const [c, page] = await Promise.all([
        api.get<ConfigView>(`${base}/config`).catch((err: unknown) => {
          if (err instanceof ApiError && err.status === 404) return null;
          throw err;
        }),
        api.get<Page<VersionView>>(`${base}/versions`, { limit: PAGE }),
      ]);
      shown.current = Math.max(shown.current, c?.version ?? 0);
      setConfig(c);
      setVersions(page.items);
      setCursor(page.nextCursor);
      setError(undefined);
    } catch (err) {
      setError(messageOf(err));
    }
  }, [base]);

  const loadMoreVersions = useCallback(async () => {
    if (!cursor) return;
    try {
      const page = await api.get<Page<VersionView>>(`${base}/versions`, { limit: PAGE, cursor });
      setVersions((v) => [...(v ?? []), ...page.items]);
      setCursor(page.nextCursor);
    } catch (err) {
      setError(messageOf(err));
    }
  }, [base, cursor]);

  useEffect(() => {
    shown.current = 0;
    setConfig(undefined);
    setVersions(undefined);
    void reload();
  }, [reload]);

  useEffect(() => {
    const stop = new AbortController();
    const { signal } = stop;
    void (async () => {
      while (!signal.aborted) {
        try {
          const c = await request<ConfigView>('GET', `${base}/watch`, { query: { version: shown.current, wait: WAIT }, signal });
          if (c.version > shown.current) {
            await reload();
            notify.current?.(c);
          }
        } catch (err) {
          if (signal.aborted) return;
          // 404: still nothing published when the wait ended; anything else: back off, then retry.
          await sleep(err instanceof ApiError && err.status === 404 ? 1000 : 5000, signal);
        }
      }
    })();
    return () => stop.abort();
  }, [base, reload]);

  return { config, versions, moreVersions: cursor !== undefined, error, reload, loadMoreVersions };
}
