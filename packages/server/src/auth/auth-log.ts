/**
 * The auth log: every login attempt with its outcome, the client's address and user agent. Entries
 * are written straight to the database, outside the writer: a login is not a change to the model,
 * and a password sprayer must not queue behind (or hold up) the global write lock. Refusals by the
 * rate limiter are cheap to send, so they are folded into one entry per limiter window.
 */
import { ForbiddenError, type AuthLogQuery } from '@canopy/core';
import type { z } from 'zod';
import type { Actor } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import { iso } from '../tree/index.ts';
import * as repo from './repo.ts';

export type LoginOutcome = repo.AuthLogRow['outcome'];

/** Where an attempt came from. */
export interface LoginOrigin {
  address: string;
  userAgent: string;
}

const MAX_USER_AGENT = 512;

export type AuthLog = ReturnType<typeof createAuthLog>;

/** The auth log over `db`; `onError` hears of entries that could not be written. */
export function createAuthLog(db: Queryable, onError: (err: unknown) => void = () => {}) {
  // The limiter's window object → the entry counting its refusals (a promise, so refusals arriving
  // together all land on the first one's entry). Entries vanish with the windows they belong to.
  const throttled = new WeakMap<object, Promise<number>>();

  function values(username: string, userId: number | null, outcome: LoginOutcome, from: LoginOrigin) {
    return { username: username.slice(0, 64), userId, outcome, address: from.address.slice(0, 64), userAgent: from.userAgent.slice(0, MAX_USER_AGENT) };
  }

  return {
    /** Record a success or a refused password. A failure to record is reported, never the login's failure. */
    async record(username: string, userId: number | null, outcome: Exclude<LoginOutcome, 'rate_limited'>, from: LoginOrigin): Promise<void> {
      await repo.insertAuthLog(db, values(username, userId, outcome, from)).catch(onError);
    },

    /** Record a refusal by the rate limiter, counted on the entry of its limiter `window`. */
    async recordThrottled(window: object, username: string, from: LoginOrigin): Promise<void> {
      const entry = throttled.get(window);
      if (entry) {
        await entry.then((id) => repo.bumpAuthLog(db, id)).catch(onError);
        return;
      }
      const made = repo.insertAuthLog(db, values(username, null, 'rate_limited', from));
      throttled.set(window, made);
      await made.catch((err: unknown) => {
        throttled.delete(window);
        onError(err);
      });
    },

    /** Entries newest first; a non-superuser sees only attempts on their own user name. */
    async query(actor: Actor, f: z.infer<typeof AuthLogQuery>) {
      let username = f.user;
      if (!actor.superuser) {
        if (username !== undefined && username !== actor.name) throw new ForbiddenError("read other users' logins", 'canopy');
        username = actor.name;
      }
      const rows = await repo.queryAuthLog(db, { username, outcome: f.outcome, since: f.since, until: f.until, before: f.cursor ? Number(f.cursor) : undefined }, f.limit);
      const items = rows.map((r) => ({ id: r.id, at: iso(r.at), username: r.username, outcome: r.outcome, address: r.address, userAgent: r.userAgent, attempts: r.attempts }));
      const last = items.at(-1);
      return { items, ...(items.length === f.limit && last ? { nextCursor: String(last.id) } : {}) };
    },
  };
}
