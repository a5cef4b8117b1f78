/**
 * Least request by the power of two choices (Mitzenmacher): draw two distinct up backends at
 * random and take the one with fewer requests in flight per unit of weight. Nearly as even as
 * scanning every backend, at constant cost and without herding onto one idle backend.
 */

import { freezeBackends, upIndices, validateBackends } from './backends.ts';
import type { Backend, LeastRequestBalancer } from './types.ts';

/** Power-of-two-choices balancer that counts requests between `begin` and `end`. */
export class PowerOfTwoChoicesBalancer implements LeastRequestBalancer {
  readonly algorithm = 'least_request';
  readonly backends: readonly Backend[];
  readonly #random: () => number;
  readonly #up: Int32Array;
  readonly #inFlight: Float64Array;
  readonly #position = new Map<string, number>();

  constructor(backends: readonly Backend[], random: () => number = Math.random) {
    validateBackends(backends);
    this.backends = freezeBackends(backends);
    this.#random = random;
    this.#up = Int32Array.from(upIndices(this.backends));
    this.#inFlight = new Float64Array(this.backends.length);
    this.backends.forEach((b, i) => this.#position.set(b.id, i));
  }

  /** The less loaded of two random up backends (weight-normalised; ties go to the first drawn). */
  pick(_key?: string): Backend | undefined {
    const up = this.#up;
    const n = up.length;
    if (n === 0) return undefined;
    if (n === 1) return this.backends[up[0]!];
    const a = up[Math.floor(this.#random() * n)]!;
    // Draw the second from the other n - 1 so the two are always distinct.
    let j = Math.floor(this.#random() * (n - 1));
    if (up[j] === a) j = n - 1;
    const b = up[j]!;
    return this.backends[this.#load(b) < this.#load(a) ? b : a];
  }

  /** Counts a request as started on `backend`; unknown backends are ignored. */
  begin(backend: Backend): void {
    const i = this.#position.get(backend.id);
    if (i !== undefined) this.#inFlight[i] = this.#inFlight[i]! + 1;
  }

  /** Counts a request as finished on `backend`; never goes below zero. */
  end(backend: Backend): void {
    const i = this.#position.get(backend.id);
    if (i !== undefined && this.#inFlight[i]! > 0) this.#inFlight[i] = this.#inFlight[i]! - 1;
  }

  /** Requests in flight on `backend`. */
  inFlight(backend: Backend): number {
    const i = this.#position.get(backend.id);
    return i === undefined ? 0 : this.#inFlight[i]!;
  }

  #load(i: number): number {
    return this.#inFlight[i]! / this.backends[i]!.weight;
  }
}
