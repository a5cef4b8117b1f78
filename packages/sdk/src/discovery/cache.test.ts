import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backendOf, createBalancer, type Answer } from '@canopy/core';
import { entryFor, pickFrom } from './cache.ts';

function answer(algorithm: Answer['policy']['algorithm'], servers: [string, number, number][], extra: Partial<Answer['instances'][number]> = {}): Answer {
  return {
    found: true, path: 'corp.web', service: 'corp.web', aliasChain: [], index: 1, policy: { algorithm }, ports: [{ name: 'http', port: 80 }],
    protected: false, zoneFallback: false, total: servers.length, healthy: servers.length,
    instances: servers.map(([ip, port, weight], k) => ({
      id: k, hostname: `h${k}`, ip, port, portName: 'http', weight, zone: '', status: 'up', health: 'passing', bound: true, serving: true,
      ttlSeconds: null, meta: {}, version: 1, updatedAt: '2026-01-01T00:00:00Z', ...extra,
    })),
  };
}

describe('discovery cache entries', () => {
  test('wrr picks follow nginx\'s smooth sequence and return the answer\'s instances', () => {
    const e = entryFor(answer('wrr', [['10.0.0.1', 80, 5], ['10.0.0.2', 80, 1], ['10.0.0.3', 80, 1]]), undefined);
    assert.equal(Array.from({ length: 7 }, () => pickFrom(e)?.hostname).join(' '), 'h0 h0 h1 h0 h2 h0 h0');
  });

  test('a change that leaves addresses, ports and weights alone keeps the balancer and its place in the sequence', () => {
    const servers: [string, number, number][] = [['10.0.0.1', 80, 2], ['10.0.0.2', 80, 1]];
    const first = entryFor(answer('wrr', servers), undefined);
    pickFrom(first);
    const second = entryFor(answer('wrr', servers, { health: 'warning' }), first);
    assert.equal(second.balancer, first.balancer);
    assert.equal(pickFrom(second)?.health, 'warning', 'the new answer\'s instance is returned');
    const third = entryFor(answer('wrr', [['10.0.0.1', 80, 2]]), second);
    assert.notEqual(third.balancer, second.balancer);
  });

  test('consistent_hash picks what createBalancer picks over the same instances', () => {
    const servers = Array.from({ length: 20 }, (_, k): [string, number, number] => [`10.0.1.${k + 1}`, 8080, 1 + (k % 3)]);
    const e = entryFor(answer('consistent_hash', servers), undefined);
    const ref = createBalancer('consistent_hash', servers.map(([ip, port, w]) => backendOf(ip, port, w)));
    for (let k = 0; k < 500; k++) assert.equal(`${pickFrom(e, `user-${k}`)?.ip}:8080`, ref.pick(`user-${k}`)?.id);
  });

  test('no instance: pick gives undefined', () => {
    assert.equal(pickFrom(entryFor(answer('wrr', []), undefined)), undefined);
  });
});
