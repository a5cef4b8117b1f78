/**
 * Smooth weighted round robin, step for step as nginx's `ngx_http_upstream_get_peer`
 * (ngx_http_upstream_round_robin.c) with no failures recorded: every up peer's current weight
 * grows by its weight, the largest wins (the first one on ties) and pays back the total.
 * Weights 5,1,1 give a a b a c a a.
 */

import { freezeBackends, validateBackends } from './backends.ts';
import type { Backend, Balancer } from './types.ts';

/** Nginx's round-robin state over a fixed list of backends. */
export class WrrBalancer implements Balancer {
  readonly algorithm = 'wrr';
  readonly backends: readonly Backend[];
  readonly #weight: Float64Array;
  readonly #current: Float64Array;
  readonly #up: Uint8Array;

  constructor(backends: readonly Backend[]) {
    validateBackends(backends);
    this.backends = freezeBackends(backends);
    const n = this.backends.length;
    this.#weight = new Float64Array(n);
    this.#current = new Float64Array(n);
    this.#up = new Uint8Array(n);
    this.backends.forEach((b, i) => {
      this.#weight[i] = b.weight;
      this.#up[i] = b.down === true ? 0 : 1;
    });
  }

  /** Next backend in the smooth weighted sequence; the key is ignored. */
  pick(_key?: string): Backend | undefined {
    const i = this.pickIndex();
    return i < 0 ? undefined : this.backends[i];
  }

  /** Index of the next backend, or -1 when every backend is down. */
  pickIndex(): number {
    const weight = this.#weight;
    const current = this.#current;
    const up = this.#up;
    let best = -1;
    let total = 0;
    for (let i = 0; i < weight.length; i++) {
      if (up[i] === 0) continue;
      const w = weight[i]!;
      const c = current[i]! + w;
      current[i] = c;
      total += w;
      if (best < 0 || c > current[best]!) best = i;
    }
    if (best >= 0) current[best] = current[best]! - total;
    return best;
  }
}
