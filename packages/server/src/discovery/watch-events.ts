/**
 * SSE event encoding for watchers, shared between them. A change to a popular service reaches
 * thousands of watchers holding the same options; encoding its answer once per registry state (and
 * the whole event once per distinct watcher view) instead of once per watcher is what keeps a
 * fan-out to 10,000 connections within a few hundred milliseconds on one event loop. Authorization
 * is still decided per watcher, per path, on every event: only the bytes are shared.
 */
import type { Actor } from '../changes/index.ts';
import type { DiscoveryAccess } from './access.ts';
import type { DiscoveryService } from './service.ts';

/** Bytes of encoded answers and events kept for reuse; past it, encoding simply is not cached. */
const CACHE_BYTES = 32 * 1024 * 1024;

export interface WatchOptions {
  healthyOnly: boolean;
  zone?: string | undefined;
}

export type EventEncoder = ReturnType<typeof createEventEncoder>;

/** An encoder whose caches live as long as one registry generation. */
export function createEventEncoder(discovery: DiscoveryService, access: DiscoveryAccess) {
  let generation = -1;
  let bytes = 0;
  const answers = new Map<string, string>();
  const events = new Map<string, Buffer>();

  function fresh(): void {
    const g = discovery.registry.generation();
    if (g === generation) return;
    generation = g;
    bytes = 0;
    answers.clear();
    events.clear();
  }

  function keep<T extends string | Buffer>(map: Map<string, T>, key: string, value: T): T {
    if (bytes + value.length <= CACHE_BYTES) {
      bytes += value.length;
      map.set(key, value);
    }
    return value;
  }

  /** `path`'s answer as JSON (`{found:false}` when it leads nowhere or the watcher may not read it). */
  function answerJson(path: string, o: WatchOptions, readable: boolean, optsKey: string): string {
    if (!readable) return JSON.stringify({ found: false, path });
    const key = `${optsKey}\n${path}`;
    return answers.get(key) ?? keep(answers, key, JSON.stringify(discovery.registry.answer(path, o) ?? { found: false, path }));
  }

  return {
    /**
     * One SSE event (`id`, `event`, `data: {revision, services:[answer…]}`) for `actor` watching
     * `paths` with options `o`, as bytes ready for the socket.
     */
    event(actor: Actor, event: 'snapshot' | 'change', revision: number, paths: readonly string[], o: WatchOptions): Buffer {
      fresh();
      const readable = paths.map((p) => {
        const id = discovery.resolveNode(p);
        return id !== undefined && access.canRead(actor, id);
      });
      const optsKey = `${o.healthyOnly ? 'h' : 'a'}\n${o.zone ?? ''}`;
      const key = `${event}\n${revision}\n${optsKey}\n${readable.map((r) => (r ? '1' : '0')).join('')}\n${paths.join(',')}`;
      const hit = events.get(key);
      if (hit) return hit;
      const data = `{"revision":${revision},"services":[${paths.map((p, i) => answerJson(p, o, readable[i] as boolean, optsKey)).join(',')}]}`;
      return keep(events, key, Buffer.from(`id: ${revision}\nevent: ${event}\ndata: ${data}\n\n`));
    },
  };
}
