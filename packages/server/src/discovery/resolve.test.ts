import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { hosts, mkInstance, mkService } from './fixtures.test-util.ts';

for (const backend of testBackends()) {
  describe(`discovery resolution (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    const fail = (path: string, host: string) => s.call('PUT', `/api/v1/services/${path}/instances/${host}/8080/heartbeat`, { status: 'fail' });
    const get = async (url: string) => (await s.call('GET', url)).body;

    test('protect threshold: below it the answer holds every instance and says so', async () => {
      await mkService(s, 'prot.web', { protectThreshold: 0.5 });
      for (const n of [1, 2, 3, 4]) await mkInstance(s, 'prot.web', `prot-${n}.example`, `10.20.0.${n}`);
      await fail('prot.web', 'prot-1.example');
      let a = await get('/api/v1/services/prot.web/instances?healthy=true');
      assert.deepEqual([a.protected, a.healthy, a.total, hosts(a)], [false, 3, 4, ['prot-2.example', 'prot-3.example', 'prot-4.example']]);
      await fail('prot.web', 'prot-2.example');
      await fail('prot.web', 'prot-3.example');
      a = await get('/api/v1/services/prot.web/instances?healthy=true');
      assert.equal(a.protected, true);
      assert.equal(a.healthy, 1);
      assert.deepEqual(hosts(a), ['prot-1.example', 'prot-2.example', 'prot-3.example', 'prot-4.example']);
      await s.call('PUT', '/api/v1/services/prot.web/instances/prot-4.example/8080', { status: 'draining' });
      a = await get('/api/v1/services/prot.web/instances?healthy=true');
      assert.ok(!hosts(a).includes('prot-4.example'), 'maintenance still removes an instance under protection');
    });

    test('zone-aware: same-zone healthy instances first, across zones when too few are healthy', async () => {
      await mkService(s, 'zone.web', { zoneAware: true, zoneMinHealthy: 2 });
      await mkInstance(s, 'zone.web', 'zone-a1.example', '10.21.0.1', {}, 'za');
      await mkInstance(s, 'zone.web', 'zone-a2.example', '10.21.0.2', {}, 'za');
      await mkInstance(s, 'zone.web', 'zone-b1.example', '10.21.1.1', {}, 'zb');
      let a = await get('/api/v1/services/zone.web/instances?healthy=true&zone=za');
      assert.deepEqual([hosts(a), a.zoneFallback], [['zone-a1.example', 'zone-a2.example'], false]);
      a = await get('/api/v1/services/zone.web/instances?healthy=true&zone=zb');
      assert.deepEqual([hosts(a), a.zoneFallback], [['zone-b1.example', 'zone-a1.example', 'zone-a2.example'], true]);
      await fail('zone.web', 'zone-a1.example');
      a = await get('/api/v1/services/zone.web/instances?healthy=true&zone=za');
      assert.deepEqual([hosts(a), a.zoneFallback], [['zone-a2.example', 'zone-b1.example'], true]);
      a = await get('/api/v1/services/zone.web/instances?healthy=true');
      assert.deepEqual(hosts(a), ['zone-a2.example', 'zone-b1.example'], 'no caller zone: every healthy instance');
      assert.deepEqual(hosts(s.services.discovery.resolve('zone.web', { zone: 'zb' })!), ['zone-b1.example', 'zone-a2.example'], 'the in-process interface agrees');
    });

    test('blocking query returns as soon as the service changes past the index', async () => {
      await mkService(s, 'blk.web');
      await mkInstance(s, 'blk.web', 'blk-a.example', '10.22.0.1');
      const first = await s.call('GET', '/api/v1/services/blk.web/instances');
      const index = Number(first.headers['x-canopy-index']);
      const waiting = s.call('GET', `/api/v1/services/blk.web/instances?index=${index}&wait=60s`);
      const unrelated = await mkService(s, 'blk.other');
      assert.ok(unrelated);
      await s.call('PUT', '/api/v1/services/blk.web/instances/blk-a.example/8080', { weight: 7 });
      const res = await waiting;
      assert.equal(res.status, 200);
      assert.ok(Number(res.headers['x-canopy-index']) > index);
      assert.equal(res.body.instances[0].weight, 7);
    });

    test('blocking query times out with the same index when nothing changes', async () => {
      await mkService(s, 'blk2.web');
      const first = await s.call('GET', '/api/v1/services/blk2.web/instances');
      const res = await s.call('GET', `/api/v1/services/blk2.web/instances?index=${first.body.index}&wait=150ms`);
      assert.equal(res.status, 200);
      assert.equal(res.body.index, first.body.index);
      assert.equal(res.headers['x-canopy-index'], String(first.body.index));
      const older = await s.call('GET', `/api/v1/services/blk2.web/instances?index=${first.body.index - 1}&wait=60s`);
      assert.equal(older.body.index, first.body.index, 'an older index answers at once');
      assert.equal((await s.call('GET', '/api/v1/services/blk2.web/instances?index=1&wait=soon')).status, 400);
    });

    test('a renamed or moved service keeps its old paths resolving', async () => {
      await mkService(s, 'ren.old');
      await mkInstance(s, 'ren.old', 'ren-a.example', '10.23.0.1');
      assert.equal((await s.call('PATCH', '/api/v1/nodes/ren.old', { name: 'new' })).status, 200);
      let a = await get('/api/v1/services/ren.old/instances?healthy=true');
      assert.deepEqual([a.service, a.aliasChain, hosts(a)], ['ren.new', ['ren.old'], ['ren-a.example']]);
      assert.deepEqual(s.services.discovery.lookupAlias('ren.old'), { target: 'ren.new', kind: 'renamed' });
      await s.call('POST', '/api/v1/nodes', { parentPath: 'ren', name: 'dst' });
      assert.equal((await s.call('POST', '/api/v1/nodes/ren.new/move', { parentPath: 'ren.dst' })).status, 200);
      a = await get('/api/v1/services/ren.old/instances');
      assert.equal(a.service, 'ren.dst.new');
      a = await get('/api/v1/services/ren.new/instances');
      assert.equal(a.service, 'ren.dst.new');
      assert.equal((await get('/api/v1/services/ren.dst.new')).path, 'ren.dst.new');
    });
  });
}
