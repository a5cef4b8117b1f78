import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { backendOf, createBalancer } from './index.ts';
import { arbBackends, seededRandom } from './test-fixtures.test-util.ts';

describe('random', () => {
  test('honours weights: each share within 2 points of weight / total over 20 000 seeded picks', () => {
    fc.assert(
      fc.property(arbBackends({ min: 1, max: 8, maxWeight: 10, down: true }), fc.nat(), (list, seed) => {
        const up = list.filter((b) => b.down !== true);
        const balancer = createBalancer('random', list, { random: seededRandom(seed) });
        const n = 20_000;
        const counts = new Map<string, number>();
        for (let i = 0; i < n; i++) {
          const b = balancer.pick();
          if (b === undefined) return up.length === 0;
          counts.set(b.id, (counts.get(b.id) ?? 0) + 1);
        }
        const total = up.reduce((s, b) => s + b.weight, 0);
        for (const b of up) {
          const share = (counts.get(b.id) ?? 0) / n;
          assert.ok(Math.abs(share - b.weight / total) < 0.02, `${b.id}: ${share} vs ${b.weight / total}`);
        }
        return [...counts.keys()].every((id) => up.some((b) => b.id === id));
      }),
      { numRuns: 50, seed: 42 },
    );
  });

  test('maps the generator\'s range onto backends by cumulative weight', () => {
    const list = [backendOf('a', 1, 1), backendOf('b', 1, 3)];
    const at = (r: number) => createBalancer('random', list, { random: () => r }).pick()!.host;
    assert.deepEqual([at(0), at(0.249), at(0.25), at(0.999999)], ['a', 'a', 'b', 'b']);
  });
});
