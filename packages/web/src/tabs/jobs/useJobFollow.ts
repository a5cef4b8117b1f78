/**
 * Follow one job live: `GET /jobs/{id}/output` is an event stream sending the job's whole detail
 * (`event: job`) each time it or one of its tasks changes, and ending once the job is finished.
 * EventSource would reconnect after that end, so the hook closes it on a finished job; `refollow`
 * opens it again after an action that restarts the job (retry, resume).
 */
import { useCallback, useEffect, useState } from 'react';
import { API } from '../../api.ts';
import { isFinished, type JobDetailView } from './model.ts';

export type FeedState = 'connecting' | 'live' | 'reconnecting' | 'done';

export interface JobFollow {
  detail: JobDetailView | undefined;
  feed: FeedState;
  refollow(): void;
}

/** The live detail of job `id`. */
export function useJobFollow(id: number): JobFollow {
  const [detail, setDetail] = useState<JobDetailView>();
  const [feed, setFeed] = useState<FeedState>('connecting');
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    setFeed('connecting');
    const es = new EventSource(`${API}/jobs/${id}/output`);
    es.addEventListener('job', (ev: MessageEvent<string>) => {
      const d = JSON.parse(ev.data) as JobDetailView;
      setDetail(d);
      if (isFinished(d.state)) {
        es.close();
        setFeed('done');
      } else setFeed('live');
    });
    es.onerror = () => setFeed((f) => (f === 'done' ? f : 'reconnecting'));
    return () => es.close();
  }, [id, generation]);

  const refollow = useCallback(() => setGeneration((g) => g + 1), []);
  return { detail, feed, refollow };
}
