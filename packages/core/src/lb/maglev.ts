/**
 * Maglev hashing (Eisenbud et al., NSDI 2016): each backend walks its own permutation of a prime
 * size table, taking turns to claim empty slots, so a lookup is one hash and one array read and a
 * membership change moves few keys. Weights follow Envoy's scheme: a backend claims a slot in a
 * round only when its share (weight / heaviest weight) has accrued one more slot.
 *
 * Unlike nginx's ring, Maglev is not perfectly minimal: removing a backend also moves a few keys
 * between the remaining ones (up to ~10% of all keys at 4–10 backends, ~2% at a hundred), the price
 * of every backend holding its exact share of the table.
 *
 * Table size: the smallest prime of a fixed ladder (≈ powers of two, floor 1021) that is at least
 * 100 × backends, counting down ones. A fixed ladder, not "smallest prime ≥ 100·N", because a
 * different size reshuffles every key: with the ladder, adding or removing a backend keeps the size
 * unless the count crosses a doubling (11, 21, 41, 82, … backends). 100 slots per backend keeps
 * each backend's share within about 1% of its weight. Callers that need stability across every
 * size can pass `tableSize`.
 */

import { ValidationError } from '../errors.ts';
import { freezeBackends, upIndices, validateBackends } from './backends.ts';
import { crc32, fnv1a32, mix32 } from './hash.ts';
import type { Backend, Balancer } from './types.ts';

/** Primes just below powers of two, from 2^10 to 2^24. */
const SIZE_LADDER = [
  1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071, 262139, 524287, 1048573, 2097143, 4194301, 8388593, 16777213,
];

/** Slots per backend the default table size aims for. */
export const MAGLEV_SLOTS_PER_BACKEND = 100;

/** Default table size for `count` backends (see the file comment). */
export function maglevTableSize(count: number): number {
  const want = MAGLEV_SLOTS_PER_BACKEND * count;
  return SIZE_LADDER.find((p) => p >= want) ?? SIZE_LADDER[SIZE_LADDER.length - 1]!;
}

function isPrime(n: number): boolean {
  if (n < 2 || !Number.isInteger(n)) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/** Maglev lookup table over a fixed list of backends; down backends get no slots. */
export class MaglevBalancer implements Balancer {
  readonly algorithm = 'maglev';
  readonly backends: readonly Backend[];
  /** Backend index per slot; empty when no backend is up. */
  readonly table: Int32Array;

  constructor(backends: readonly Backend[], tableSize?: number) {
    validateBackends(backends);
    const size = tableSize ?? maglevTableSize(backends.length);
    if (!isPrime(size) || size < backends.length) {
      throw new ValidationError('invalid maglev table size', [
        { path: ['tableSize'], message: `table size must be a prime ≥ the number of backends (${backends.length})` },
      ]);
    }
    this.backends = freezeBackends(backends);
    this.table = buildTable(this.backends, size);
  }

  /** The backend owning `hash(key) mod M`; a missing key hashes as the empty string. */
  pick(key = ''): Backend | undefined {
    const table = this.table;
    if (table.length === 0) return undefined;
    return this.backends[table[mix32(crc32(key)) % table.length]!];
  }
}

/** Fills every slot by letting up backends claim the next free entry of their permutation in turn. */
function buildTable(backends: readonly Backend[], size: number): Int32Array {
  const up = upIndices(backends);
  if (up.length === 0) return new Int32Array(0);
  const n = up.length;
  const offset = new Float64Array(n);
  const skip = new Float64Array(n);
  const next = new Float64Array(n);
  const weight = new Float64Array(n);
  const claimed = new Float64Array(n);
  let maxWeight = 0;
  up.forEach((bi, i) => {
    const b = backends[bi]!;
    offset[i] = mix32(crc32(b.id)) % size;
    skip[i] = (mix32(fnv1a32(b.id)) % (size - 1)) + 1;
    weight[i] = b.weight;
    maxWeight = Math.max(maxWeight, b.weight);
  });
  const table = new Int32Array(size).fill(-1);
  let filled = 0;
  for (let round = 0; filled < size; round++) {
    for (let i = 0; i < n && filled < size; i++) {
      // Integer form of "has this backend's share (weight / maxWeight per round) earned another slot?"
      if (round * weight[i]! < claimed[i]! * maxWeight) continue;
      claimed[i]!++;
      let slot = (offset[i]! + next[i]! * skip[i]!) % size;
      while (table[slot] !== -1) {
        next[i]!++;
        slot = (offset[i]! + next[i]! * skip[i]!) % size;
      }
      table[slot] = up[i]!;
      next[i]!++;
      filled++;
    }
  }
  return table;
}
