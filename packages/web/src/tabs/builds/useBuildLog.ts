/**
 * Follow one build live: `GET /builds/{id}/log` is an event stream of `build` (the build on each
 * state change), `log`/`reset` (the log) and `end`. EventSource would reconnect after the end, so
 * the hook closes it then; a reconnect after a cut starts the log over (the server resends it all).
 */
import { useEffect, useState } from 'react';
import { API } from '../../api.ts';
import { applyLogEvent, isFinished, type BuildView, type LogState } from './model.ts';

export type FeedState = 'connecting' | 'live' | 'reconnecting' | 'done';

/** The live build `id` and its log. */
export function useBuildLog(id: number): { build: BuildView | undefined; log: string; feed: FeedState } {
  const [build, setBuild] = useState<BuildView>();
  const [log, setLog] = useState<LogState>({ text: '', bytes: 0 });
  const [feed, setFeed] = useState<FeedState>('connecting');

  useEffect(() => {
    setFeed('connecting');
    const es = new EventSource(`${API}/builds/${id}/log`);
    es.onopen = () => setLog({ text: '', bytes: 0 });
    es.addEventListener('build', (ev: MessageEvent<string>) => {
      const b = JSON.parse(ev.data) as BuildView;
      setBuild(b);
      setFeed(isFinished(b.state) ? 'done' : 'live');
    });
    for (const name of ['log', 'reset'] as const) {
      es.addEventListener(name, (ev: MessageEvent<string>) => setLog((l) => applyLogEvent(l, name, JSON.parse(ev.data) as { at: number; text: string })));
    }
    es.addEventListener('end', () => {
      es.close();
      setFeed('done');
      // The build's last state (its artifact) came with the `build` event before `end`.
    });
    es.onerror = () => setFeed((f) => (f === 'done' ? f : 'reconnecting'));
    return () => es.close();
  }, [id]);

  return { build, log: log.text, feed };
}
