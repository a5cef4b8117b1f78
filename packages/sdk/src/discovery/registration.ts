/**
 * What the daemon on a machine does for a service it runs: register the instance after a release,
 * heartbeat it while it lives, and take it out of every answer *before* the process stops — drain
 * first, so callers and nginx stop sending new work, then deregister. Use the machine's credential
 * (`cnm_…`) as the token: it may act for that machine's instances only.
 *
 *   const reg = createRegistration({ url, token, path: 'corp.pay.api', hostname, port: 8080 });
 *   await reg.ready;                 // registered
 *   …
 *   await reg.close();               // draining for drainMs, then deregistered
 *
 * Heartbeats go every third of the TTL. A heartbeat answered 404 (an operator or a reset removed
 * the instance) registers it again: the machine says what runs on it. Failures are retried with
 * full-jitter backoff and reported to `onError`; the TTL turns the instance critical on the server
 * if this process dies without closing.
 */
import type { z } from 'zod';
import type { HeartbeatView, InstanceView } from '@canopy/core';
import { CanopyApiError, createClient } from '../client.ts';

export type CheckResult = 'pass' | 'warn' | 'fail';
export type Heartbeat = z.output<typeof HeartbeatView>;

export interface RegistrationOptions {
  url: string;
  /** The machine's credential (or a token with `discovery.write` on the node). */
  token?: string | undefined;
  path: string;
  hostname: string;
  port: number;
  /** Heartbeat TTL; default 30 s (heartbeats every 10 s). */
  ttlSeconds?: number;
  weight?: number;
  meta?: Record<string, string>;
  /** Which of the machine's addresses to announce; default its first. */
  ip?: string;
  /** The local health check run before each heartbeat; default: always pass. */
  check?: () => CheckResult | Promise<CheckResult>;
  /** How long `close()` keeps the instance draining before deregistering; default 5 s. */
  drainMs?: number;
  /** Retry backoff after a failed call, full jitter: base 500 ms doubling up to 30 s. */
  backoff?: { baseMs?: number; capMs?: number };
  onError?: (err: unknown) => void;
  /** After each heartbeat the server accepted. */
  onHeartbeat?: (view: Heartbeat) => void;
  fetch?: typeof globalThis.fetch;
  random?: () => number;
}

export type Registration = ReturnType<typeof createRegistration>;

/** Register an instance now, keep it alive until `close()`. */
export function createRegistration(opts: RegistrationOptions) {
  const api = createClient({ url: opts.url, token: opts.token, ...(opts.fetch ? { fetch: opts.fetch } : {}) });
  const ttlSeconds = opts.ttlSeconds ?? 30;
  const every = (ttlSeconds * 1000) / 3;
  const base = opts.backoff?.baseMs ?? 500;
  const cap = opts.backoff?.capMs ?? 30_000;
  const random = opts.random ?? Math.random;
  const onError = opts.onError ?? (() => {});
  const url = `/services/${encodeURIComponent(opts.path)}/instances/${encodeURIComponent(opts.hostname)}/${opts.port}`;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closing = false;
  let failures = 0;
  let inflight: Promise<void> = Promise.resolve();

  const register = () =>
    api.request<InstanceView>('PUT', url, {
      ttlSeconds,
      status: 'up',
      ...(opts.weight !== undefined ? { weight: opts.weight } : {}),
      ...(opts.meta ? { meta: opts.meta } : {}),
      ...(opts.ip ? { ip: opts.ip } : {}),
    });

  async function heartbeat(): Promise<void> {
    const status = opts.check ? await opts.check() : 'pass';
    try {
      // Send first, then tell: an optional chain around the call would skip the request itself
      // whenever no callback was given (the documented way), and every instance would expire.
      const view = await api.request<Heartbeat>('PUT', `${url}/heartbeat`, { status });
      opts.onHeartbeat?.(view);
    } catch (err) {
      if (!(err instanceof CanopyApiError) || err.status !== 404) throw err;
      await register();
    }
  }

  /** Run `step` now and again after `every` (or after a backoff when it failed). */
  function loop(step: () => Promise<unknown>, resolveReady?: (v: void) => void): void {
    if (closing) return;
    inflight = step().then(
      () => {
        failures = 0;
        resolveReady?.();
        schedule(every * (0.9 + 0.2 * random()), heartbeat);
      },
      (err: unknown) => {
        onError(err);
        const wait = random() * Math.min(cap, base * 2 ** Math.min(failures++, 30));
        // Until the first registration lands, keep trying to register.
        schedule(wait, resolveReady ? register : heartbeat, resolveReady);
      },
    );
  }

  function schedule(ms: number, step: () => Promise<unknown>, resolveReady?: (v: void) => void): void {
    if (closing) return;
    timer = setTimeout(() => loop(step, resolveReady), ms);
  }

  const ready = new Promise<void>((resolve) => loop(register, resolve));

  return {
    /** Settles once the instance is registered (retrying until then). */
    ready,

    /**
     * Stop heartbeating, drain for `drainMs` (answers and nginx upstreams drop the instance at once
     * while in-flight work finishes), then deregister. Await it before stopping the service.
     */
    async close(o: { drainMs?: number } = {}): Promise<void> {
      if (closing) return;
      closing = true;
      clearTimeout(timer);
      await inflight.catch(() => {});
      const drainMs = o.drainMs ?? opts.drainMs ?? 5000;
      if (drainMs > 0) {
        await api.request('PUT', url, { status: 'draining' }).catch(onError);
        await new Promise((r) => setTimeout(r, drainMs));
      }
      await api.request('DELETE', url).catch((err: unknown) => {
        if (!(err instanceof CanopyApiError && err.status === 404)) throw err;
      });
    },
  };
}
