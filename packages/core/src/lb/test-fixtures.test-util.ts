/** Shared generators for the balancer tests. */

import fc from 'fast-check';
import { backendOf } from './index.ts';
import type { Backend } from './types.ts';

/** Mulberry32: a seeded uniform generator in [0, 1), so statistical tests repeat exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Distinct loopback-style backends with weights 1–`maxWeight`, some optionally down. */
export function arbBackends(opts: { min: number; max: number; maxWeight?: number; down?: boolean }): fc.Arbitrary<Backend[]> {
  const one = fc.record({
    weight: fc.integer({ min: 1, max: opts.maxWeight ?? 5 }),
    down: opts.down === true ? fc.boolean() : fc.constant(false),
  });
  return fc
    .tuple(fc.integer({ min: 0, max: 200 }), fc.array(one, { minLength: opts.min, maxLength: opts.max }))
    .map(([net, list]) => list.map((b, i) => backendOf(`10.${net}.${i >> 8}.${i & 255}`, 8000 + i, b.weight, b.down)));
}

/** `count` distinct keys shaped like real routing keys. */
export function keys(count: number, prefix = 'user'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${(Math.imul(i + 1, 2654435761) >>> 0).toString(36)}`);
}
