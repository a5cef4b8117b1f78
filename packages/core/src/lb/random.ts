/** Weighted random choice: each up backend is picked with probability weight / total up weight. */

import { freezeBackends, upIndices, validateBackends } from './backends.ts';
import type { Backend, Balancer } from './types.ts';

/** Picks independently at random, in proportion to weight; the key is ignored. */
export class RandomBalancer implements Balancer {
  readonly algorithm = 'random';
  readonly backends: readonly Backend[];
  readonly #random: () => number;
  /** Indices of the up backends and the running total of their weights, for a binary search. */
  readonly #index: Int32Array;
  readonly #cumulative: Float64Array;

  constructor(backends: readonly Backend[], random: () => number = Math.random) {
    validateBackends(backends);
    this.backends = freezeBackends(backends);
    this.#random = random;
    this.#index = Int32Array.from(upIndices(this.backends));
    this.#cumulative = new Float64Array(this.#index.length);
    let sum = 0;
    this.#index.forEach((bi, i) => {
      sum += this.backends[bi]!.weight;
      this.#cumulative[i] = sum;
    });
  }

  /** A random up backend, weighted; undefined when all are down. */
  pick(_key?: string): Backend | undefined {
    const cumulative = this.#cumulative;
    const n = cumulative.length;
    if (n === 0) return undefined;
    const target = this.#random() * cumulative[n - 1]!;
    // First entry whose running total exceeds the target.
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! <= target) lo = mid + 1;
      else hi = mid;
    }
    return this.backends[this.#index[lo]!];
  }
}
