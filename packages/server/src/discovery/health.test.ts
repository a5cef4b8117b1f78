import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { createServices } from '../services.ts';
import { hosts, mkInstance, mkService } from './fixtures.test-util.ts';

for (const backend of testBackends()) {
  describe(`discovery health (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    const beat = (path: string, host: string, status?: string) =>
      s.call('PUT', `/api/v1/services/${path}/instances/${host}/8080/heartbeat`, status ? { status } : undefined);
    const healthy = async (path: string) => (await s.call('GET', `/api/v1/services/${path}/instances?healthy=true`)).body;
    const healthOf = async (path: string, host: string) => (await s.call('GET', `/api/v1/services/${path}/instances/${host}/8080`)).body.health;

    test('an instance whose TTL lapses turns critical and leaves healthy answers; a heartbeat brings it back', async () => {
      await mkService(s, 'ttl.web');
      await mkInstance(s, 'ttl.web', 'ttl-a.example', '10.10.0.1', { ttlSeconds: 60 });
      await mkInstance(s, 'ttl.web', 'ttl-b.example', '10.10.0.2', { ttlSeconds: 30 });
      assert.equal((await beat('ttl.web', 'ttl-b.example')).status, 200);
      assert.ok((await s.services.discovery.health.sweep(Date.now() + 31_000)) >= 1);
      assert.equal(await healthOf('ttl.web', 'ttl-b.example'), 'critical');
      assert.equal(await healthOf('ttl.web', 'ttl-a.example'), 'passing');
      assert.deepEqual(hosts(await healthy('ttl.web')), ['ttl-a.example']);
      const back = await beat('ttl.web', 'ttl-b.example');
      assert.equal(back.body.health, 'passing');
      assert.deepEqual(hosts(await healthy('ttl.web')), ['ttl-a.example', 'ttl-b.example']);
    });

    test('an instance registered again after its TTL lapsed is passing at once, not at its next heartbeat', async () => {
      await mkService(s, 'rereg.web', { passesBeforePassing: 3 });
      await mkInstance(s, 'rereg.web', 'rereg-a.example', '10.16.0.1', { ttlSeconds: 30 });
      assert.ok((await s.services.discovery.health.sweep(Date.now() + 31_000)) >= 1);
      assert.equal(await healthOf('rereg.web', 'rereg-a.example'), 'critical');
      const again = await s.call('PUT', '/api/v1/services/rereg.web/instances/rereg-a.example/8080', { ttlSeconds: 30 });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.health, 'passing');
      assert.deepEqual(hosts(await healthy('rereg.web')), ['rereg-a.example']);
      // Its TTL counts from the registration: a sweep within it leaves the instance alone.
      await s.services.discovery.health.sweep(Date.now() + 10_000);
      assert.equal(await healthOf('rereg.web', 'rereg-a.example'), 'passing');
    });

    test('a replica does not expire an instance whose heartbeats reach another replica', async () => {
      await mkService(s, 'rep.web');
      await mkInstance(s, 'rep.web', 'rep-a.example', '10.15.0.1', { ttlSeconds: 30 });
      await mkInstance(s, 'rep.web', 'rep-b.example', '10.15.0.2', { ttlSeconds: 30 });
      // A second replica over the same database, whose clock reads 25 s ahead.
      const other = createServices(s.database, { discovery: { clock: () => Date.now() + 25_000 } });
      await other.start();
      try {
        await other.feed.catchUp();
        await other.discovery.heartbeat('rep.web', 'rep-a.example', 8080, { status: 'pass' });
        await other.discovery.health.flush();
        await s.services.discovery.health.sweep(Date.now() + 31_000);
        assert.equal(await healthOf('rep.web', 'rep-a.example'), 'passing', 'heard by the other replica 25 s ago');
        assert.equal(await healthOf('rep.web', 'rep-b.example'), 'critical');
        await other.feed.catchUp();
        assert.equal(other.discovery.resolve('rep.web')?.instances.length, 1, 'the transition reached the other replica');
      } finally {
        await other.stop();
      }
    });

    test('heartbeats are kept in memory: no change event unless health moves', async () => {
      await mkService(s, 'quiet.web');
      await mkInstance(s, 'quiet.web', 'quiet-a.example', '10.11.0.1', { ttlSeconds: 30 });
      const before = s.services.feed.revision();
      for (let i = 0; i < 5; i++) assert.equal((await beat('quiet.web', 'quiet-a.example')).body.health, 'passing');
      assert.equal(s.services.feed.revision(), before, 'no change event for heartbeats that change nothing');
      await beat('quiet.web', 'quiet-a.example', 'warn');
      assert.equal(s.services.feed.revision(), before + 1, 'one event for passing → warning');
      await beat('quiet.web', 'quiet-a.example', 'warn');
      assert.equal(s.services.feed.revision(), before + 1);
    });

    test('flap damping: M failures before critical, N passes before passing', async () => {
      await mkService(s, 'flap.web', { passesBeforePassing: 3, failuresBeforeCritical: 2 });
      await mkInstance(s, 'flap.web', 'flap-a.example', '10.12.0.1', { ttlSeconds: 60 });
      const seq: [string, string][] = [
        ['fail', 'passing'],
        ['pass', 'passing'],
        ['fail', 'passing'],
        ['fail', 'critical'],
        ['pass', 'critical'],
        ['pass', 'critical'],
        ['fail', 'critical'],
        ['pass', 'critical'],
        ['pass', 'critical'],
        ['pass', 'passing'],
      ];
      for (const [i, [result, expected]] of seq.entries()) {
        const r = await beat('flap.web', 'flap-a.example', result);
        assert.equal(r.body.health, expected, `step ${i}: ${result}`);
      }
    });

    test('draining and down leave answers without deregistering; up puts the instance back', async () => {
      await mkService(s, 'drain.web');
      await mkInstance(s, 'drain.web', 'drain-a.example', '10.13.0.1');
      await mkInstance(s, 'drain.web', 'drain-b.example', '10.13.0.2');
      const url = '/api/v1/services/drain.web/instances/drain-a.example/8080';
      assert.equal((await s.call('PUT', url, { status: 'draining' })).status, 200);
      assert.deepEqual(hosts(await healthy('drain.web')), ['drain-b.example']);
      const all = (await s.call('GET', '/api/v1/services/drain.web/instances')).body;
      assert.deepEqual(all.instances.map((i: { hostname: string; status: string }) => `${i.hostname}:${i.status}`), ['drain-a.example:draining', 'drain-b.example:up']);
      await s.call('PUT', url, { status: 'down' });
      assert.deepEqual(hosts(await healthy('drain.web')), ['drain-b.example']);
      await s.call('PUT', url, { status: 'up' });
      assert.deepEqual(hosts(await healthy('drain.web')), ['drain-a.example', 'drain-b.example']);
    });

    test('unbinding the machine from the node takes its instance out of answers', async () => {
      await mkService(s, 'unb.web');
      await mkInstance(s, 'unb.web', 'unb-a.example', '10.14.0.1');
      assert.equal((await s.call('DELETE', '/api/v1/nodes/unb.web/machines/unb-a.example')).status, 204);
      const all = (await s.call('GET', '/api/v1/services/unb.web/instances')).body;
      assert.equal(all.instances[0].bound, false);
      assert.deepEqual(hosts(await healthy('unb.web')), []);
    });
  });
}
