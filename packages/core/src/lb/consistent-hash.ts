/**
 * Consistent hashing identical to nginx's `hash $key consistent` (ngx_http_upstream_hash_module.c,
 * `ngx_http_upstream_init_chash` / `ngx_http_upstream_get_chash_peer`): a ring of 160 points per
 * unit of weight, keyed by the server text as written in the `server` directive, looked up with
 * CRC-32 of the key. Down backends keep their points; a pick that lands on one walks on, and after
 * 21 points falls back to round robin, as nginx does. Only first tries are modelled: nginx's
 * per-request retry state (proxy_next_upstream) and failure counters are not.
 */

import { freezeBackends, nginxServerAddress, validateBackends } from './backends.ts';
import { CRC32_INIT, crc32, crc32Final, crc32UpdateBytes, crc32UpdateString, crc32UpdateUint32LE } from './hash.ts';
import type { Backend, Balancer } from './types.ts';
import { WrrBalancer } from './wrr.ts';

/** Ring points per unit of weight, as nginx. */
export const CHASH_POINTS_PER_WEIGHT = 160;

/** Nginx gives up walking the ring after this many extra points and uses round robin. */
const MAX_TRIES = 20;

const NUL = new Uint8Array([0]);

/** Splits a server text into host and port the way nginx does before hashing (a trailing `:digits` is the port). */
export function splitServerText(server: string): [hostStart: number, hostEnd: number, portStart: number] {
  if (server.length >= 5 && server.slice(0, 5).toLowerCase() === 'unix:') return [5, server.length, server.length];
  for (let j = 0; j < server.length; j++) {
    const c = server.charCodeAt(server.length - j - 1);
    if (c === 58 /* : */) return [0, server.length - j - 1, server.length - j];
    if (c < 48 || c > 57) break;
  }
  return [0, server.length, server.length];
}

/** CRC-32 state over `HOST \0 PORT`, the part every point of one server shares. */
function baseHash(server: string): number {
  const [hostStart, hostEnd, portStart] = splitServerText(server);
  let crc = crc32UpdateString(CRC32_INIT, server, hostStart, hostEnd);
  crc = crc32UpdateBytes(crc, NUL);
  return crc32UpdateString(crc, server, portStart, server.length);
}

/** Nginx's consistent-hash ring over a fixed list of backends. */
export class ConsistentHashBalancer implements Balancer {
  readonly algorithm = 'consistent_hash';
  readonly backends: readonly Backend[];
  /** Sorted, de-duplicated point hashes. */
  readonly #points: Uint32Array;
  /** Backend index owning each point. */
  readonly #owner: Int32Array;
  readonly #up: Uint8Array;
  /** Nginx's fallback for empty keys, single-server upstreams and long walks over down servers. */
  readonly #rr: WrrBalancer;

  constructor(backends: readonly Backend[]) {
    validateBackends(backends);
    this.backends = freezeBackends(backends);
    this.#rr = new WrrBalancer(this.backends);
    this.#up = Uint8Array.from(this.backends, (b) => (b.down === true ? 0 : 1));
    [this.#points, this.#owner] = buildRing(this.backends);
  }

  /** Number of distinct points on the ring (160 × total weight, less any hash collisions). */
  get ringSize(): number {
    return this.#points.length;
  }

  /** The backend nginx would pick first for this key; no key means round robin, as in nginx. */
  pick(key?: string): Backend | undefined {
    const i = this.pickIndex(key);
    return i < 0 ? undefined : this.backends[i];
  }

  /** Index of the backend for `key`, or -1 when none is up. */
  pickIndex(key?: string): number {
    const points = this.#points;
    const n = points.length;
    if (key === undefined || key.length === 0 || this.backends.length === 1 || n === 0) return this.#rr.pickIndex();
    const hash = crc32(key);
    // First point >= hash; n means "past the end", which the modulo below wraps to 0.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < hash) lo = mid + 1;
      else hi = mid;
    }
    for (let tries = 0; tries <= MAX_TRIES; tries++) {
      const owner = this.#owner[(lo + tries) % n]!;
      if (this.#up[owner] === 1) return owner;
    }
    return this.#rr.pickIndex();
  }
}

/** Every server's points, sorted by hash; of equal hashes the first generated survives, as nginx's sort keeps it. */
function buildRing(backends: readonly Backend[]): [Uint32Array, Int32Array] {
  let total = 0;
  for (const b of backends) total += b.weight * CHASH_POINTS_PER_WEIGHT;
  const hashes = new Uint32Array(total);
  const owners = new Int32Array(total);
  let k = 0;
  backends.forEach((b, i) => {
    const base = baseHash(nginxServerAddress(b));
    let prev = 0;
    for (let j = 0; j < b.weight * CHASH_POINTS_PER_WEIGHT; j++) {
      prev = crc32Final(crc32UpdateUint32LE(base, prev));
      hashes[k] = prev;
      owners[k++] = i;
    }
  });
  // glibc's qsort (a merge sort) is stable, so the tie-break on generation order mirrors it.
  const order = Array.from({ length: total }, (_, i) => i).sort((a, b) => hashes[a]! - hashes[b]! || a - b);
  const points = new Uint32Array(total);
  const owner = new Int32Array(total);
  let m = 0;
  for (const i of order) {
    if (m > 0 && points[m - 1] === hashes[i]) continue;
    points[m] = hashes[i]!;
    owner[m++] = owners[i]!;
  }
  return [points.slice(0, m), owner.slice(0, m)];
}
