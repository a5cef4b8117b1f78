/**
 * The change feed: writes append rows to `changes` and NOTIFY; every replica follows the table in
 * revision order and hands each change to the read models subscribed to its topic. Writers hold
 * one advisory lock, so revisions commit in order and a follower never skips one.
 */
import { sql } from 'drizzle-orm';
import { rows, type Database, type Queryable } from '../db/connection.ts';

export const CHANGES_CHANNEL = 'canopy_changes';
const POLL_MS = 2000;

export interface Change {
  revision: number;
  topic: string;
  payload: unknown;
}

export type ChangeHandler = (change: Change) => void;

export interface ChangeFeed {
  /** The last revision applied to this replica's read models. */
  readonly revision: () => number;
  /** Call `handler` for every change on `topic` applied from now on. */
  on(topic: string, handler: ChangeHandler): void;
  /** Apply every committed change not yet applied; resolves once they are. */
  catchUp(): Promise<number>;
  /** Apply what `q` (an open transaction holding the write lock) sees committed; no coalescing. */
  catchUpWith(q: Queryable): Promise<number>;
  /**
   * Note the newest revision, let `loadSnapshots` fill the read models, then follow from that
   * revision. A change committed while snapshots load is applied again on top: handlers upsert.
   */
  start(loadSnapshots: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
  /** Resolves when the feed has applied `revision` or later. */
  waitFor(revision: number): Promise<void>;
}

/** Follow the `changes` table of `database`. */
export function createChangeFeed(database: Database, onError: (err: unknown) => void = () => {}): ChangeFeed {
  const handlers = new Map<string, ChangeHandler[]>();
  const waiters: { revision: number; resolve: () => void }[] = [];
  let applied = 0;
  let unlisten: (() => Promise<void>) | null = null;
  let poller: NodeJS.Timeout | undefined;

  async function pull(q: Queryable = database.db): Promise<number> {
    for (;;) {
      const batch = await rows<{ revision: string | number; topic: string; payload: unknown }>(
        q,
        sql`SELECT revision, topic, payload FROM changes WHERE revision > ${applied} ORDER BY revision LIMIT 1000`,
      );
      for (const row of batch) {
        // Two pulls may overlap (a NOTIFY and a writer); each change applies once.
        if (Number(row.revision) <= applied) continue;
        const change = { revision: Number(row.revision), topic: row.topic, payload: row.payload };
        for (const h of handlers.get(change.topic) ?? []) {
          try {
            h(change);
          } catch (err) {
            onError(err);
          }
        }
        applied = change.revision;
      }
      settleWaiters();
      if (batch.length < 1000) return applied;
    }
  }

  function settleWaiters(): void {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      if (w && w.revision <= applied) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  // One pull at a time. A call made while one runs gets the next pull (which starts after it, so
  // it sees everything committed before the call); calls made meanwhile share that next pull.
  let current: Promise<number> | null = null;
  let queued: Promise<number> | null = null;
  function startPull(): Promise<number> {
    const p = pull().finally(() => {
      if (current === p) current = null;
    });
    current = p;
    return p;
  }
  function catchUp(): Promise<number> {
    if (!current) return startPull();
    queued ??= current
      .catch(() => 0)
      .then(() => {
        queued = null;
        return startPull();
      });
    return queued;
  }

  return {
    revision: () => applied,
    on(topic, handler) {
      const list = handlers.get(topic) ?? [];
      list.push(handler);
      handlers.set(topic, list);
    },
    catchUp,
    catchUpWith: (q) => pull(q),
    async start(loadSnapshots) {
      const [top] = await rows<{ max: string | number | null }>(database.db, sql`SELECT max(revision) AS max FROM changes`);
      const from = Number(top?.max ?? 0);
      await loadSnapshots();
      applied = from;
      unlisten = await database.listen(CHANGES_CHANNEL, () => {
        catchUp().catch(onError);
      });
      // NOTIFY is a hint, not the only path: a poll bounds the lag if a listener connection drops.
      poller = setInterval(() => catchUp().catch(onError), POLL_MS);
      poller.unref();
      await catchUp();
    },
    async stop() {
      if (poller) clearInterval(poller);
      poller = undefined;
      await unlisten?.();
      unlisten = null;
      await current?.catch(() => {});
    },
    waitFor(revision) {
      if (revision <= applied) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ revision, resolve }));
    },
  };
}
