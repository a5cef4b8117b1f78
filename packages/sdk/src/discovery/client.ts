/**
 * The discovery client apps embed: resolve a service once over HTTP, then keep its answer current
 * from one SSE watch, and pick instances locally with the service's own load-balancing policy, as
 * nginx in front of the same servers would. While the server is unreachable it keeps answering from
 * the last known state; when the server is back, the watch resumes (or resyncs from a snapshot).
 */
import type { Answer, WatchedAnswer } from '@canopy/core';
import { CanopyApiError, createClient } from '../client.ts';
import { entryFor, MISSING, pickFrom, type Instance, type ServiceEntry } from './cache.ts';
import { createWatch, type WatchStatus } from './watch.ts';

export interface DiscoveryClientOptions {
  /** Server base URL, e.g. `http://127.0.0.1:7070`. */
  url: string;
  /** API token (or session token) holding `discovery.read` on the services resolved. */
  token?: string | undefined;
  /** The caller's zone, for zone-aware services; default: the zone of the token's machine, if any. */
  zone?: string | undefined;
  fetch?: typeof globalThis.fetch;
  /** Reconnect backoff, full jitter: base 250 ms doubling up to 30 s. */
  backoff?: { baseMs?: number; capMs?: number };
  /** Reconnect when the watch is silent this long (the server pings every 15 s); default 45 s. */
  idleTimeoutMs?: number;
  /** Watch failures (the client keeps retrying); default: ignored. */
  onError?: (err: unknown) => void;
  /** After the cached answer of `path` changed (undefined: the path no longer leads to a service). */
  onChange?: (path: string, answer: Answer | undefined) => void;
}

export type { Instance, WatchStatus };

export type DiscoveryClient = ReturnType<typeof createDiscoveryClient>;

/** A discovery client; `close()` it to end its watch. */
export function createDiscoveryClient(opts: DiscoveryClientOptions) {
  const api = createClient({ url: opts.url, token: opts.token, ...(opts.fetch ? { fetch: opts.fetch } : {}) });
  const entries = new Map<string, ServiceEntry>();
  const inflight = new Map<string, Promise<Answer>>();
  const onChange = opts.onChange ?? (() => {});
  let closed = false;

  const watch = createWatch({
    apiBase: `${opts.url.replace(/\/+$/, '')}/api/v1`,
    headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
    zone: opts.zone,
    fetch: opts.fetch ?? globalThis.fetch,
    backoff: { baseMs: opts.backoff?.baseMs ?? 250, capMs: opts.backoff?.capMs ?? 30_000 },
    idleTimeoutMs: opts.idleTimeoutMs ?? 45_000,
    random: Math.random,
    onEvent: (e) => {
      for (const a of e.services) apply(a.path, a);
    },
    onRefused: async (paths) => {
      const gone: string[] = [];
      for (const path of paths) {
        try {
          apply(path, await fetchAnswer(path));
        } catch (err) {
          if (!(err instanceof CanopyApiError) || (err.status !== 404 && err.status !== 403)) throw err;
          apply(path, { found: false, path });
          gone.push(path);
        }
      }
      return gone;
    },
    onError: opts.onError ?? (() => {}),
  });

  function fetchAnswer(path: string): Promise<Answer> {
    const zone = opts.zone ? `&zone=${encodeURIComponent(opts.zone)}` : '';
    return api.request<Answer>('GET', `/services/${encodeURIComponent(path)}/instances?healthy=true${zone}`);
  }

  /** Take a newer answer into the cache; an older one (a GET overtaken by the watch) is dropped. */
  function apply(path: string, a: WatchedAnswer): void {
    const prev = entries.get(path);
    if (!a.found) {
      entries.set(path, MISSING);
      watch.remove(path);
      if (prev?.answer) onChange(path, undefined);
      return;
    }
    if (prev?.answer && prev.answer.index > a.index) return;
    entries.set(path, entryFor(a, prev));
    onChange(path, a);
  }

  return {
    /**
     * The answer for `path` (a service, alias or old path): from the cache once resolved, kept
     * current by the watch and served as last known while the server is away; the first call asks
     * the server (and rejects with CanopyApiError / CanopyNetworkError when it cannot answer).
     */
    async resolve(path: string): Promise<Answer> {
      if (closed) throw new Error('the discovery client is closed');
      const cached = entries.get(path)?.answer;
      if (cached) return cached;
      let p = inflight.get(path);
      if (!p) {
        p = fetchAnswer(path).then((a) => {
          // Watch first: past the watch limit this throws, and nothing unwatched enters the cache.
          watch.add(path, a.index);
          apply(path, a);
          return entries.get(path)?.answer ?? a;
        });
        inflight.set(path, p);
        void p.finally(() => inflight.delete(path)).catch(() => {});
      }
      return p;
    },

    /**
     * An instance for one request, by the service's policy (`wrr`, `consistent_hash` with `key`,
     * `maglev`, `random`; `least_request` sees no requests in flight here, so it picks the lighter
     * of two random weighted choices as if all were idle); synchronous, from the cache. Undefined
     * when no instance serves. Throws when `path` was never resolved: call `resolve(path)` first.
     */
    pick(path: string, key?: string): Instance | undefined {
      const entry = entries.get(path);
      if (entry === undefined) throw new Error(`'${path}' is not resolved yet: await resolve('${path}') first`);
      return pickFrom(entry, key);
    },

    /** The watch connection: `live`, `connecting`, `offline` (retrying), `idle` (nothing resolved) or `closed`. */
    status: (): WatchStatus => watch.status(),
    /** The change-feed revision of the last watch event received. */
    revision: () => watch.revision(),
    /** Whether `path` is on the watch (resolved and still leading to a service). */
    watching: (path: string) => watch.has(path),

    /** End the watch; `pick` keeps answering from the last state, `resolve` rejects. */
    close(): void {
      closed = true;
      watch.close();
    },
  };
}
