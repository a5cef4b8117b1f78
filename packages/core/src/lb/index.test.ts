import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ValidationError } from '../errors.ts';
import { backendOf, createBalancer, isLbAlgorithm, LB_ALGORITHMS, nginxServerAddress, type LbAlgorithm } from './index.ts';
import { arbBackends, keys, seededRandom } from './test-fixtures.test-util.ts';

const KEYS = keys(200);

describe('createBalancer', () => {
  test('no algorithm ever picks a down backend, and each finds one while any is up', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...LB_ALGORITHMS),
        arbBackends({ min: 0, max: 15, down: true }),
        fc.nat(),
        (algorithm: LbAlgorithm, list, seed) => {
          const balancer = createBalancer(algorithm, list, { random: seededRandom(seed) });
          const anyUp = list.some((b) => b.down !== true);
          for (const key of [...KEYS, undefined, '']) {
            const b = balancer.pick(key);
            if (!anyUp) assert.equal(b, undefined);
            else assert.ok(b !== undefined && b.down !== true, `${algorithm} picked ${b?.id ?? 'nothing'}`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('builds every listed algorithm and names it', () => {
    for (const a of LB_ALGORITHMS) assert.equal(createBalancer(a, [backendOf('a', 1)]).algorithm, a);
    assert.ok(isLbAlgorithm('maglev'));
    assert.ok(!isLbAlgorithm('ip_hash'));
  });

  test('rejects an unknown algorithm with a ValidationError', () => {
    assert.throws(() => createBalancer('ip_hash' as LbAlgorithm, []), ValidationError);
  });

  test('rejects bad weights, ports and duplicate ids, naming each field', () => {
    const list = [
      { ...backendOf('a', 1), weight: 0 },
      { ...backendOf('b', 1), weight: 1.5 },
      { ...backendOf('c', 1), port: 70000 },
      backendOf('d', 1),
      backendOf('d', 1),
    ];
    for (const a of LB_ALGORITHMS) {
      assert.throws(() => createBalancer(a, list), (err: unknown) => {
        assert.ok(err instanceof ValidationError);
        assert.deepEqual(err.issues.map((i) => i.path), [
          ['backends', 0, 'weight'],
          ['backends', 1, 'weight'],
          ['backends', 2, 'port'],
          ['backends', 4, 'id'],
        ]);
        return true;
      });
    }
  });

  test('writes the nginx server address with IPv6 hosts in brackets', () => {
    assert.equal(nginxServerAddress({ host: '10.0.0.1', port: 80 }), '10.0.0.1:80');
    assert.equal(nginxServerAddress({ host: '::1', port: 80 }), '[::1]:80');
    assert.equal(backendOf('fe80::1', 443).id, '[fe80::1]:443');
  });
});
