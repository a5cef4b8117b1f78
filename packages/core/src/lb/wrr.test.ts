import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { backendOf, createBalancer } from './index.ts';
import { arbBackends } from './test-fixtures.test-util.ts';

describe('wrr', () => {
  test('weights 5,1,1 yield a a b a c a a, then repeat', () => {
    const wrr = createBalancer('wrr', [backendOf('a', 80, 5), backendOf('b', 80, 1), backendOf('c', 80, 1)]);
    const seq = Array.from({ length: 14 }, () => wrr.pick()!.host).join(' ');
    assert.equal(seq, 'a a b a c a a a a b a c a a');
  });

  test('every full cycle gives each up backend exactly its weight in picks', () => {
    fc.assert(
      fc.property(arbBackends({ min: 1, max: 12, maxWeight: 10, down: true }), (list) => {
        const wrr = createBalancer('wrr', list);
        const up = list.filter((b) => b.down !== true);
        const cycle = up.reduce((s, b) => s + b.weight, 0);
        for (let round = 0; round < 2; round++) {
          const counts = new Map<string, number>();
          for (let i = 0; i < cycle; i++) {
            const b = wrr.pick()!;
            counts.set(b.id, (counts.get(b.id) ?? 0) + 1);
          }
          for (const b of up) assert.equal(counts.get(b.id) ?? 0, b.weight, `${b.id} in round ${round}`);
          assert.equal([...counts.values()].reduce((s, n) => s + n, 0), cycle);
        }
      }),
      { numRuns: 200 },
    );
  });

  test('spreads a heavy backend out instead of picking it in a burst', () => {
    const wrr = createBalancer('wrr', [backendOf('a', 1, 3), backendOf('b', 1, 3)]);
    assert.deepEqual(Array.from({ length: 6 }, () => wrr.pick()!.host), ['a', 'b', 'a', 'b', 'a', 'b']);
  });

  test('returns undefined when every backend is down or there are none', () => {
    assert.equal(createBalancer('wrr', [backendOf('a', 1, 1, true)]).pick(), undefined);
    assert.equal(createBalancer('wrr', []).pick(), undefined);
  });

  test('a later change to the caller\'s array does not alter the balancer', () => {
    const list = [backendOf('a', 1, 1), backendOf('b', 1, 1)];
    const wrr = createBalancer('wrr', list);
    list[0]!.down = true;
    assert.deepEqual([wrr.pick()!.host, wrr.pick()!.host], ['a', 'b']);
  });
});
