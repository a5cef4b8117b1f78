/**
 * One deployment, live: `GET /deployments/{id}` once, then while it is not finished the event
 * stream `GET /deployments/{id}/log`, whose `deployment` events carry the whole detail each time
 * it changes. EventSource reconnects by itself after the server ends the stream, so the hook
 * closes it as soon as the deployment is finished (or the server says `end`).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { API, api, messageOf } from '../../api.ts';
import { isFinished, type DeploymentDetailView } from './model.ts';

export type FeedState = 'loading' | 'live' | 'reconnecting' | 'done';

export interface LiveDeployment {
  detail: DeploymentDetailView | undefined;
  feed: FeedState;
  error: string | undefined;
  /** Take a detail an action answered with, without waiting for the stream. */
  accept(d: DeploymentDetailView): void;
}

// A view older than the one shown (a late GET racing the stream) must not move the screen back.
const newer = (a: DeploymentDetailView | undefined, b: DeploymentDetailView) => a === undefined || a.id !== b.id || a.updatedAt <= b.updatedAt;

/** The detail of deployment `id`, followed live while it runs. */
export function useDeployment(id: number): LiveDeployment {
  const [detail, setDetail] = useState<DeploymentDetailView>();
  const [feed, setFeed] = useState<FeedState>('loading');
  const [error, setError] = useState<string>();
  const [follow, setFollow] = useState(false);
  const current = useRef<DeploymentDetailView>(undefined);

  const accept = useCallback((d: DeploymentDetailView) => {
    if (!newer(current.current, d)) return;
    current.current = d;
    setDetail(d);
    setFollow(!isFinished(d.state));
    if (isFinished(d.state)) setFeed('done');
  }, []);

  useEffect(() => {
    current.current = undefined;
    setDetail(undefined);
    setFeed('loading');
    setError(undefined);
    setFollow(false);
    let stale = false;
    api.get<DeploymentDetailView>(`/deployments/${id}`).then(
      (d) => !stale && accept(d),
      (err: unknown) => !stale && setError(messageOf(err)),
    );
    return () => {
      stale = true;
    };
  }, [id, accept]);

  useEffect(() => {
    if (!follow) return undefined;
    const es = new EventSource(`${API}/deployments/${id}/log`, { withCredentials: true });
    es.onopen = () => setFeed('live');
    es.addEventListener('deployment', (ev: MessageEvent<string>) => {
      const d = JSON.parse(ev.data) as DeploymentDetailView;
      accept(d);
      if (isFinished(d.state)) es.close();
      else setFeed('live');
    });
    es.addEventListener('end', () => {
      es.close();
      setFeed('done');
    });
    es.onerror = () => setFeed((f) => (f === 'done' ? f : 'reconnecting'));
    return () => es.close();
  }, [id, follow, accept]);

  return { detail, feed, error, accept };
}
