/**
 * The discovery client's one SSE connection (`GET /api/v1/watch?services=…`), covering every path
 * it has resolved. Adding a path reconnects with the larger set, resuming with `Last-Event-ID`
 * from the lower of the last revision received and the new path's answer index, so nothing that
 * changed in between is lost (the server replays each changed path's current answer, in revision
 * order, or sends a snapshot when it no longer remembers that far back). A broken, refused or
 * silent stream (no byte, not even the server's 15 s ping, for `idleTimeoutMs`) reconnects after a
 * full-jitter backoff: a random wait in [0, min(cap, base × 2^attempt)); a stream that opens resets it.
 */
import type { WatchEvent } from '@canopy/core';
import { CanopyApiError } from '../client.ts';
import { createSseParser } from './sse.ts';

/** The server's limit on paths per watch. */
export const MAX_WATCHED = 256;

export type WatchStatus = 'idle' | 'connecting' | 'live' | 'offline' | 'closed';

export interface WatchDeps {
  /** `http://host:port/api/v1`. */
  apiBase: string;
  headers: Record<string, string>;
  zone: string | undefined;
  fetch: typeof globalThis.fetch;
  backoff: { baseMs: number; capMs: number };
  idleTimeoutMs: number;
  random: () => number;
  onEvent(event: WatchEvent): void;
  /** The server refused the set (404/403): which of `paths` to stop watching. */
  onRefused(paths: string[]): Promise<string[]>;
  onError(err: unknown): void;
}

const minOf = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));

/** A watch that connects once it has a path. */
export function createWatch(deps: WatchDeps) {
  const paths = new Set<string>();
  let status: WatchStatus = 'idle';
  let closed = false;
  let lastRevision: number | undefined;
  // The lowest answer index of paths added since the last connection opened.
  let floor: number | undefined;
  let attempt = 0;
  let restart = false;
  let running = false;
  let kickQueued = false;
  let controller: AbortController | undefined;
  let wake: (() => void) | undefined;

  function kick(): void {
    kickQueued = false;
    if (closed) return;
    controller?.abort(new Error('watching more services'));
    if (running) return wake?.();
    running = true;
    void loop().finally(() => (running = false));
  }

  async function loop(): Promise<void> {
    while (!closed && paths.size > 0) {
      restart = false;
      await connectOnce();
      if (closed) return;
      if (restart) continue;
      status = 'offline';
      const cap = Math.min(deps.backoff.capMs, deps.backoff.baseMs * 2 ** Math.min(attempt++, 30));
      await sleep(deps.random() * cap);
    }
    if (!closed) status = 'idle';
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      t.unref?.();
      function done() {
        clearTimeout(t);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  async function connectOnce(): Promise<void> {
    const list = [...paths];
    const since = minOf(lastRevision, floor);
    floor = undefined;
    let opened = false;
    const ctrl = new AbortController();
    controller = ctrl;
    status = 'connecting';
    let idle: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => ctrl.abort(new Error(`no data from the watch for ${deps.idleTimeoutMs} ms`)), deps.idleTimeoutMs);
      idle.unref?.();
    };
    try {
      const headers: Record<string, string> = { ...deps.headers, accept: 'text/event-stream' };
      if (since !== undefined) headers['last-event-id'] = String(since);
      const zone = deps.zone ? `&zone=${encodeURIComponent(deps.zone)}` : '';
      arm();
      const res = await deps.fetch(`${deps.apiBase}/watch?services=${encodeURIComponent(list.join(','))}&healthy=true${zone}`, { headers, signal: ctrl.signal });
      if (!res.ok || !res.body) {
        const problem = (await res.json().catch(() => ({}))) as { code?: string; detail?: string };
        if (res.status === 404 || res.status === 403) for (const p of await deps.onRefused(list)) paths.delete(p);
        throw new CanopyApiError(res.status, (problem.code ?? 'internal') as CanopyApiError['code'], `watch: ${problem.detail ?? `HTTP ${res.status}`}`);
      }
      opened = true;
      status = 'live';
      attempt = 0;
      const parser = createSseParser({
        onEvent: (e) => {
          if (e.event !== 'snapshot' && e.event !== 'change') return;
          const event = JSON.parse(e.data) as WatchEvent;
          lastRevision = event.revision;
          deps.onEvent(event);
        },
      });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        arm();
        parser.push(r.value);
      }
    } catch (err) {
      if (!restart && !closed) deps.onError(err);
    } finally {
      clearTimeout(idle);
      if (controller === ctrl) controller = undefined;
      // Never opened: the new paths' floor still has to be honoured next time.
      if (!opened) floor = minOf(floor, since);
    }
  }

  return {
    /** Watch `path` too; `index` is the index of the answer the caller already holds. */
    add(path: string, index: number): void {
      if (paths.has(path) || closed) return;
      if (paths.size >= MAX_WATCHED) throw new Error(`a discovery client watches at most ${MAX_WATCHED} services; use a second client for more`);
      paths.add(path);
      floor = minOf(floor, index);
      restart = true;
      // Resolving several services at once reconnects once.
      if (!kickQueued) {
        kickQueued = true;
        queueMicrotask(kick);
      }
    },
    /** Stop watching `path` from the next connection on. */
    remove: (path: string) => void paths.delete(path),
    has: (path: string) => paths.has(path),
    status: () => status,
    /** The revision of the last event received. */
    revision: () => lastRevision,
    close(): void {
      closed = true;
      status = 'closed';
      controller?.abort(new Error('closed'));
      wake?.();
    },
  };
}
