import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { markServing, type SelectionPolicy } from '@canopy/core';
import type { BackendInstance, BackendSource } from './backends.ts';
import { serversOn } from './backends.ts';
import { createNginxRenderer, type NginxInput } from './cluster-render.ts';
import { diffFiles } from './diff.ts';

/** Instances held in a map the test changes, as discovery's registry would change. */
type Unmarked = Omit<BackendInstance, 'serving'> & { zone: string };
const NO_PROTECTION = { protectThreshold: 0, zoneAware: false, zoneMinHealthy: 1 };

/** Instances as discovery hands them over: marked serving by the one selection rule. */
function memorySource(): BackendSource & { set(nodeId: number, list: Unmarked[], policy?: SelectionPolicy): void } {
  const byNode = new Map<number, BackendInstance[]>();
  return { instancesOf: (id) => byNode.get(id) ?? [], onChange: () => {}, set: (id, list, policy = NO_PROTECTION) => void byNode.set(id, markServing(list, policy)) };
}

const inst = (ip: string, extra: Partial<Unmarked> = {}): Unmarked => ({ ip, port: 8080, weight: 1, status: 'up', health: 'passing', bound: true, zone: '', ...extra });

function input(services: number): NginxInput {
  return {
    options: { listenAddress: '127.0.0.1', defaultServers: true },
    domains: [{ domain: 'a.example.com', ports: [{ port: 80, ssl: false }] }, { domain: 'b.example.com', ports: [{ port: 80, ssl: false }] }],
    services: Array.from({ length: services }, (_, i) => ({
      nodeId: i + 1,
      path: `corp.svc${i}`,
      upstream: `corp_svc${i}`,
      port: 8080,
      domainUris: [{ domain: i % 2 === 0 ? 'a.example.com' : 'b.example.com', uri: `/s${i}` }],
      balance: { method: 'wrr' as const },
      attributes: {},
    })),
  };
}

describe('nginx cluster renderer', () => {
  test('maps discovery states: draining and critical are down, unbound or other-port instances are left out', () => {
    const src = memorySource();
    src.set(1, [
      inst('10.0.0.4', { status: 'draining' }),
      inst('10.0.0.3', { health: 'critical' }),
      inst('10.0.0.2', { bound: false }),
      inst('10.0.0.1', { port: 9090 }),
      inst('10.0.0.5', { health: 'warning', weight: 7 }),
      inst('10.0.0.6', { status: 'down' }),
    ]);
    assert.deepEqual(serversOn(src, 1, 8080), [
      { address: '10.0.0.3', weight: 1, status: 'down' },
      { address: '10.0.0.4', weight: 1, status: 'draining' },
      { address: '10.0.0.5', weight: 7, status: 'up' },
      { address: '10.0.0.6', weight: 1, status: 'down' },
    ]);
  });

  test('a protected service keeps its critical instances up, as discovery and DNS answer them', () => {
    const src = memorySource();
    src.set(1, [inst('10.0.0.1', { health: 'critical' })], { ...NO_PROTECTION, protectThreshold: 0.5 });
    src.set(2, [inst('10.0.0.2', { health: 'critical' }), inst('10.0.0.3', { health: 'critical', status: 'draining' })]);
    assert.deepEqual(serversOn(src, 1, 8080), [{ address: '10.0.0.1', weight: 1, status: 'up' }]);
    assert.deepEqual(serversOn(src, 2, 8080).map((x) => x.status), ['down', 'down'], 'unprotected, critical is down, draining or not');
  });

  test('re-rendering after one instance change equals a full render, and touches only the upstreams file', () => {
    const src = memorySource();
    for (let i = 1; i <= 50; i++) src.set(i, [inst(`10.1.${i}.1`), inst(`10.1.${i}.2`, { weight: 2 })]);
    const r = createNginxRenderer(src);
    const full = r.render(input(50));
    src.set(7, [inst('10.1.7.1', { status: 'draining' }), inst('10.1.7.2', { weight: 2 }), inst('10.1.7.3')]);
    const inc = r.rerender(full.state, input(50), new Set([7]));
    const fresh = r.render(input(50));
    assert.deepEqual(inc.files, fresh.files);
    assert.deepEqual(inc.notes, ['corp.svc6: 10.1.7.1:8080 up weight 1 → draining weight 1, 10.1.7.3:8080 added (up weight 1)']);
    const diff = diffFiles(full.files, inc.files, 'v1', 'v2');
    assert.deepEqual([...diff.matchAll(/^\+\+\+ b\/(\S+)/gm)].map((m) => m[1]), ['10-canopy-upstreams.conf']);
  });

  test('an unchanged service re-renders to the same files with nothing to say', () => {
    const src = memorySource();
    src.set(1, [inst('10.2.0.1')]);
    const r = createNginxRenderer(src);
    const full = r.render(input(2));
    const again = r.rerender(full.state, input(2), new Set([1, 2]));
    assert.deepEqual(again.notes, []);
    assert.equal(again.files, full.files);
  });

  test('a service with no instance still renders, with one down placeholder', () => {
    const r = createNginxRenderer(memorySource());
    const up = r.render(input(1)).files.find((f) => f.path.includes('upstreams'))?.content ?? '';
    assert.match(up, /upstream corp_svc0 \{\n {4}server 127\.0\.0\.1:1 down;/);
  });

  test('an inconsistent snapshot names the service by path', () => {
    const bad = input(2);
    (bad.services[1] as { upstream: string }).upstream = 'corp_svc0';
    assert.throws(() => createNginxRenderer(memorySource()).render(bad), /service corp\.svc1\.upstream: upstream 'corp_svc0' is used by two services/);
  });
});
