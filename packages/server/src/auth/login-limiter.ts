/**
 * Login throttling: at most `max` failed attempts per key (address|user name) in a fixed window.
 *
 * Only failures count, so a script that logs in correctly many times a minute is never locked out.
 * The state is held in memory, per process: with several replicas behind a load balancer a guesser
 * gets `max` tries per replica per window, which at scrypt cost still stops online guessing; a
 * store shared through PostgreSQL would be needed to make the limit global.
 */
import { CanopyError } from '@canopy/core';

/** Too many failed logins for this address and user name; `retryAfterSeconds` (sent as Retry-After by http/errors.ts) says how long to wait. */
export class LoginThrottledError extends CanopyError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super('rate_limited', `too many attempts; retry in ${retryAfterSeconds} s`);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export interface LoginLimiterOptions {
  /** Failed attempts allowed per key and window; default 10. */
  max?: number;
  /** Window length; default one minute. */
  windowMs?: number;
  /** Keys tracked at most, so a spray of made-up names cannot exhaust memory; default 100 000. */
  maxKeys?: number;
  now?: () => number;
}

/**
 * An attempt let through (counted until `forget`), or a refusal with the time left in the window;
 * `window` is the same object for every refusal of one key in one window (the auth log keys on it).
 */
export type Admission = { ok: true; forget(): void } | { ok: false; retryAfterMs: number; window: object };

interface Window {
  count: number;
  endsAt: number;
}

export type LoginLimiter = ReturnType<typeof createLoginLimiter>;

/** A limiter of failed logins; see the file comment. */
export function createLoginLimiter(opts: LoginLimiterOptions = {}) {
  const max = opts.max ?? 10;
  const windowMs = opts.windowMs ?? 60_000;
  const maxKeys = opts.maxKeys ?? 100_000;
  const now = opts.now ?? Date.now;
  // Insertion order is window-start order (every window is equally long), so ended windows sit at
  // the front and pruning stops at the first live one.
  const windows = new Map<string, Window>();

  function prune(t: number): void {
    for (const [key, w] of windows) {
      if (w.endsAt > t && windows.size < maxKeys) break;
      // At the cap a live window goes too, oldest first: only a spray of maxKeys names a window does that.
      windows.delete(key);
    }
  }

  return {
    /**
     * Count an attempt before the password is checked, so concurrent guesses cannot all slip in
     * before the first failure lands; the caller forgets it when the login succeeds.
     */
    admit(key: string): Admission {
      const t = now();
      prune(t);
      let w = windows.get(key);
      if (w && w.endsAt <= t) {
        windows.delete(key);
        w = undefined;
      }
      if (w && w.count >= max) return { ok: false, retryAfterMs: w.endsAt - t, window: w };
      if (!w) windows.set(key, (w = { count: 0, endsAt: t + windowMs }));
      w.count++;
      const mine = w;
      let forgotten = false;
      return {
        ok: true,
        // Takes back only this attempt, and only from its own window: a success never clears
        // failures counted for whoever else shares the address and name.
        forget(): void {
          if (forgotten) return;
          forgotten = true;
          if (windows.get(key) !== mine) return;
          mine.count--;
          if (mine.count === 0) windows.delete(key);
        },
      };
    },
    /** Keys currently tracked. */
    size: () => windows.size,
  };
}
