/**
 * The node's service as the tab shows it: its definition (`GET /services/{path}`) and its live
 * answer, fed by an SSE watch (`/watch?services=PATH`) so drains, weights and health transitions
 * appear without a reload. EventSource sends the session cookie and, after a dropped connection,
 * `Last-Event-ID`, so the server replays what was missed.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, API, ApiError, messageOf, seg, withQuery } from '../../api.ts';
import type { AliasView, Answer, ServiceView, WatchEvent } from './model.ts';

/** Where the live feed stands: shown as a small badge so a stale table is never mistaken for live. */
export type FeedState = 'connecting' | 'live' | 'reconnecting' | 'off';

export interface ServiceState {
  /** undefined while loading; null when the node is not a service. */
  service: ServiceView | null | undefined;
  /** When the node is not a service but its path is an alias. */
  alias: AliasView | undefined;
  answer: Answer | undefined;
  feed: FeedState;
  error: string | undefined;
  /** Re-read the definition and the answer (after this tab changed something). */
  reload(): Promise<void>;
}

/** Load the service at `path` and keep its answer current. */
export function useServiceState(path: string): ServiceState {
  const [service, setService] = useState<ServiceView | null>();
  const [alias, setAlias] = useState<AliasView>();
  const [answer, setAnswer] = useState<Answer>();
  const [feed, setFeed] = useState<FeedState>('off');
  const [error, setError] = useState<string>();
  // The newest answer index seen, so a slow GET never overwrites a newer pushed answer.
  const newest = useRef(-1);

  const take = useCallback((a: Answer) => {
    if (a.index < newest.current) return;
    newest.current = a.index;
    setAnswer(a);
  }, []);

  const reload = useCallback(async () => {
    try {
      const s = await api.get<ServiceView>(`/services/${seg(path)}`);
      setService(s);
      setAlias(undefined);
      take(await api.get<Answer>(`/services/${seg(path)}/instances`));
      setError(undefined);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        setService(null);
        setAnswer(undefined);
        setAlias(await api.get<AliasView>(`/aliases/${seg(path)}`).catch(() => undefined));
        setError(undefined);
      } else setError(messageOf(err));
    }
  }, [path, take]);

  useEffect(() => {
    newest.current = -1;
    setService(undefined);
    setAnswer(undefined);
    void reload();
  }, [reload]);

  const isService = Boolean(service);
  const definitionIndex = service?.index ?? -1;
  const reloadRef = useRef(reload);
  reloadRef.current = reload;
  useEffect(() => {
    if (!isService) return undefined;
    setFeed('connecting');
    const es = new EventSource(withQuery(`${API}/watch`, { services: path }));
    const onEvent = (ev: MessageEvent<string>) => {
      const data = JSON.parse(ev.data) as WatchEvent;
      for (const a of data.services) {
        if (a.path !== path) continue;
        if (a.found) take(a);
        // The service went away under us (deleted elsewhere): show the "make it a service" form.
        else void reloadRef.current();
      }
    };
    es.addEventListener('snapshot', onEvent);
    es.addEventListener('change', onEvent);
    es.onopen = () => setFeed('live');
    es.onerror = () => setFeed(es.readyState === EventSource.CLOSED ? 'off' : 'reconnecting');
    return () => {
      es.close();
      setFeed('off');
    };
  }, [isService, path, take]);

  // The answer moved past the definition we hold: counts or settings may have changed too.
  useEffect(() => {
    if (answer && service && answer.index > definitionIndex) {
      api.get<ServiceView>(`/services/${seg(path)}`).then(setService, () => undefined);
    }
  }, [answer, service, definitionIndex, path]);

  return { service, alias, answer, feed, error, reload };
}
