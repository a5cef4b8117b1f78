import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { backendOf, createBalancer, ConsistentHashBalancer } from './index.ts';
import { arbBackends, keys } from './test-fixtures.test-util.ts';
import type { Backend } from './types.ts';

const KEYS = keys(2000);

function routes(list: Backend[]): string[] {
  const ring = createBalancer('consistent_hash', list);
  return KEYS.map((k) => ring.pick(k)!.id);
}

describe('consistent_hash', () => {
  test('removing a backend moves only the keys that were on it', () => {
    fc.assert(
      fc.property(arbBackends({ min: 3, max: 20 }), fc.nat(), (list, r) => {
        const gone = list[r % list.length]!;
        const before = routes(list);
        const after = routes(list.filter((b) => b !== gone));
        before.forEach((id, i) => {
          if (id !== gone.id) assert.equal(after[i], id, `key ${KEYS[i]} moved off ${id}`);
          else assert.notEqual(after[i], gone.id);
        });
      }),
      { numRuns: 40 },
    );
  });

  test('adding a backend moves keys only onto the new backend', () => {
    fc.assert(
      fc.property(arbBackends({ min: 3, max: 20 }), (list) => {
        const added = backendOf('192.0.2.1', 9999, 2);
        const before = routes(list);
        const after = routes([...list, added]);
        before.forEach((id, i) => assert.ok(after[i] === id || after[i] === added.id));
        assert.ok(after.includes(added.id), 'the new backend takes some keys');
      }),
      { numRuns: 40 },
    );
  });

  test('a down backend sends its keys elsewhere and leaves every other key in place', () => {
    fc.assert(
      fc.property(arbBackends({ min: 3, max: 20 }), fc.nat(), (list, r) => {
        const i = r % list.length;
        const before = routes(list);
        const after = routes(list.map((b, j) => (j === i ? { ...b, down: true } : b)));
        before.forEach((id, k) => {
          if (id !== list[i]!.id) assert.equal(after[k], id);
          else assert.notEqual(after[k], id);
        });
      }),
      { numRuns: 40 },
    );
  });

  test('places 160 points per unit of weight on the ring, less rare hash collisions', () => {
    const list = [backendOf('10.0.0.1', 80, 1), backendOf('10.0.0.2', 80, 3), backendOf('10.0.0.3', 80, 2)];
    const ring = new ConsistentHashBalancer(list);
    assert.ok(ring.ringSize <= 960 && ring.ringSize >= 955, `ring size ${ring.ringSize}`);
  });

  test('gives a heavier backend a proportionally larger share of keys', () => {
    const list = [backendOf('10.0.0.1', 80, 1), backendOf('10.0.0.2', 80, 4)];
    const share = routes(list).filter((id) => id === '10.0.0.2:80').length / KEYS.length;
    assert.ok(share > 0.7 && share < 0.9, `share ${share}`);
  });

  test('routes a key the same way in every instance built from the same list', () => {
    const list = [backendOf('10.0.0.1', 80), backendOf('10.0.0.2', 80), backendOf('10.0.0.3', 81)];
    assert.deepEqual(routes(list), routes(list.map((b) => ({ ...b }))));
  });

  test('without a key, or with one server, it round-robins as nginx does', () => {
    const ring = createBalancer('consistent_hash', [backendOf('a', 1, 2), backendOf('b', 1, 1)]);
    assert.deepEqual([ring.pick(), ring.pick(''), ring.pick()].map((b) => b!.host), ['a', 'b', 'a']);
    const single = createBalancer('consistent_hash', [backendOf('a', 1, 1)]);
    assert.equal(single.pick('x')!.host, 'a');
    assert.equal(createBalancer('consistent_hash', [backendOf('a', 1, 1, true)]).pick('x'), undefined);
  });

  test('when every backend is down it returns undefined', () => {
    const ring = createBalancer('consistent_hash', [backendOf('a', 1, 1, true), backendOf('b', 1, 1, true)]);
    assert.equal(ring.pick('k'), undefined);
    assert.equal(createBalancer('consistent_hash', []).pick('k'), undefined);
  });
});
