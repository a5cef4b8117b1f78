import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backendOf, createBalancer } from './index.ts';
import { seededRandom } from './test-fixtures.test-util.ts';

describe('least_request', () => {
  test('never picks the single most loaded backend while another is up', () => {
    const list = [backendOf('a', 1), backendOf('b', 1), backendOf('c', 1)];
    const lr = createBalancer('least_request', list, { random: seededRandom(1) });
    lr.begin(list[1]!);
    lr.begin(list[1]!);
    lr.begin(list[0]!);
    const picked = new Set(Array.from({ length: 500 }, () => lr.pick()!.host));
    assert.ok(!picked.has('b'));
    assert.ok(picked.has('a') && picked.has('c'), 'both less loaded backends still get picks');
  });

  test('with two backends always picks the one with fewer requests per unit of weight', () => {
    const [a, b] = [backendOf('a', 1, 1), backendOf('b', 1, 2)];
    const lr = createBalancer('least_request', [a, b], { random: seededRandom(2) });
    // a carries 1 per unit of weight, b 1.5.
    lr.begin(a);
    for (let i = 0; i < 3; i++) lr.begin(b);
    for (let i = 0; i < 50; i++) assert.equal(lr.pick()!.host, 'a');
    // Now b carries 0.
    for (let i = 0; i < 3; i++) lr.end(b);
    for (let i = 0; i < 50; i++) assert.equal(lr.pick()!.host, 'b');
  });

  test('counts requests in flight and never below zero', () => {
    const a = backendOf('a', 1);
    const lr = createBalancer('least_request', [a, backendOf('b', 1)]);
    lr.begin(a);
    lr.begin(a);
    lr.end(a);
    assert.equal(lr.inFlight(a), 1);
    lr.end(a);
    lr.end(a);
    assert.equal(lr.inFlight(a), 0);
    assert.equal(lr.inFlight(backendOf('zz', 9)), 0);
  });

  test('spreads picks evenly when every request finishes at once', () => {
    const list = [backendOf('a', 1), backendOf('b', 1), backendOf('c', 1), backendOf('d', 1)];
    const lr = createBalancer('least_request', list, { random: seededRandom(3) });
    const counts = new Map<string, number>();
    for (let i = 0; i < 8000; i++) {
      const b = lr.pick()!;
      counts.set(b.host, (counts.get(b.host) ?? 0) + 1);
    }
    for (const b of list) assert.ok(Math.abs((counts.get(b.host) ?? 0) / 8000 - 0.25) < 0.03);
  });
});
