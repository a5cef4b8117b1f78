import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { markServing, selectInstances, type Selectable } from './select.ts';
import { InstancesQuery, WatchQuery, parseWait } from './queries.ts';
import { MAX_WAIT_MS, ServiceInput } from './schema.ts';

const inst = (name: string, zone: string, health: Selectable['health'] = 'passing', status: Selectable['status'] = 'up', bound = true) => ({ name, zone, health, status, bound });
const names = (xs: { name: string }[]) => xs.map((x) => x.name);
const policy = { protectThreshold: 0, zoneAware: false, zoneMinHealthy: 1 };

describe('instance selection', () => {
  test('healthy answers drop maintenance, critical and unbound instances; warning still serves', () => {
    const all = [inst('a', ''), inst('b', '', 'warning'), inst('c', '', 'critical'), inst('d', '', 'passing', 'draining'), inst('e', '', 'passing', 'down'), inst('f', '', 'passing', 'up', false)];
    const sel = selectInstances(all, policy, { healthyOnly: true });
    assert.deepEqual(names(sel.instances), ['a', 'b']);
    assert.deepEqual([sel.total, sel.healthy], [3, 2]);
    assert.equal(selectInstances(all, policy, { healthyOnly: false }).instances.length, 6, 'the full list is for display');
  });

  test('protect threshold answers with every up instance below the healthy share', () => {
    const all = [inst('a', ''), inst('b', '', 'critical'), inst('c', '', 'critical'), inst('d', '', 'passing', 'draining')];
    const sel = selectInstances(all, { ...policy, protectThreshold: 0.5 }, { healthyOnly: true });
    assert.deepEqual([names(sel.instances), sel.protected], [['a', 'b', 'c'], true]);
    const fine = selectInstances(all, { ...policy, protectThreshold: 0.3 }, { healthyOnly: true });
    assert.deepEqual([names(fine.instances), fine.protected], [['a'], false]);
  });

  test('serving marks are the zone-less selection, so proxies route exactly what clients are answered', () => {
    const all = [inst('a', 'z1', 'critical'), inst('b', 'z2', 'critical'), inst('c', 'z1', 'passing', 'draining')];
    const marks = (p: typeof policy) => markServing(all, p).map((i) => `${i.name}:${i.serving}`);
    assert.deepEqual(marks(policy), ['a:false', 'b:false', 'c:false']);
    assert.deepEqual(marks({ ...policy, protectThreshold: 0.5, zoneAware: true }), ['a:true', 'b:true', 'c:false'], 'protected, every up instance serves; zones do not narrow it');
  });

  test('zone preference keeps the caller local until fewer than the minimum are healthy there', () => {
    const all = [inst('a1', 'a'), inst('a2', 'a'), inst('b1', 'b')];
    const zoned = { ...policy, zoneAware: true, zoneMinHealthy: 2 };
    assert.deepEqual(names(selectInstances(all, zoned, { healthyOnly: true, zone: 'a' }).instances), ['a1', 'a2']);
    const b = selectInstances(all, zoned, { healthyOnly: true, zone: 'b' });
    assert.deepEqual([names(b.instances), b.zoneFallback], [['b1', 'a1', 'a2'], true]);
    assert.deepEqual(names(selectInstances(all, policy, { healthyOnly: true, zone: 'b' }).instances), ['a1', 'a2', 'b1'], 'zone-unaware services ignore the zone');
  });
});

describe('discovery query shapes', () => {
  test('waits parse with units and are capped at five minutes', () => {
    assert.equal(parseWait('30s'), 30_000);
    assert.equal(parseWait('1500ms'), 1500);
    assert.equal(parseWait('2m'), 120_000);
    assert.equal(parseWait('10m'), MAX_WAIT_MS);
    assert.equal(InstancesQuery.safeParse({ wait: 'soon' }).success, false);
    assert.deepEqual(InstancesQuery.parse({ healthy: 'true', index: '42', wait: '5s' }), { healthy: true, index: 42, wait: 5000 });
  });

  test('a watch names 1-256 distinct valid service paths', () => {
    assert.deepEqual(WatchQuery.parse({ services: 'a.b,c.d,a.b' }).services, ['a.b', 'c.d']);
    assert.equal(WatchQuery.safeParse({ services: '' }).success, false);
    assert.equal(WatchQuery.safeParse({ services: 'A.b' }).success, false);
    assert.equal(WatchQuery.safeParse({ services: Array.from({ length: 257 }, (_, i) => `s${i}`).join(',') }).success, false);
  });

  test('a service definition takes defaults and refuses hash keys on non-hashing algorithms', () => {
    const s = ServiceInput.parse({ ports: [{ name: 'http', port: 80 }] });
    assert.deepEqual([s.lb, s.protectThreshold, s.zoneAware, s.passesBeforePassing, s.failuresBeforeCritical], [{ algorithm: 'wrr' }, 0, false, 1, 1]);
    assert.equal(ServiceInput.safeParse({ ports: [{ name: 'http', port: 80 }], lb: { algorithm: 'random', hashKey: 'x' } }).success, false);
    assert.equal(ServiceInput.safeParse({ ports: [{ name: 'http', port: 80 }], lb: { algorithm: 'maglev', hashKey: 'x-user' } }).success, true);
    assert.equal(ServiceInput.safeParse({ ports: [{ name: 'a-very-long-port-name', port: 80 }] }).success, false, 'SRV names are at most 15 characters');
  });
});
