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
      await s.services.discovery.health.flush();
      assert.equal(s.services.feed.revision(), before + 1, 'one event for passing → warning');
      await beat('quiet.web', 'quiet-a.example', 'warn');
      await s.services.discovery.health.flush();
      assert.equal(s.services.feed.revision(), before + 1);
    });

    test('a heartbeat that moves health answers while a long write holds the write lock; the move is then written, audited and reaches another replica', async () => {
      await mkService(s, 'held.web');
      await mkInstance(s, 'held.web', 'held-a.example', '10.17.0.1', { ttlSeconds: 60 });
      await mkInstance(s, 'held.web', 'held-b.example', '10.17.0.2', { ttlSeconds: 60 });
      const other = createServices(s.database);
      await other.start();
      try {
        const order: string[] = [];
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        let entered!: () => void;
        const inside = new Promise<void>((r) => (entered = r));
        // A write that holds the lock (and PGlite's one connection) until the heartbeat has answered,
        // as an import chunk does; released after 60 s at the latest so a regression fails, not hangs.
        const long = s.services.writer.run({ kind: 'system', id: null, name: 'test', superuser: true }, async () => {
          entered();
          await Promise.race([held, new Promise((r) => setTimeout(r, 60_000).unref())]);
          order.push('long write');
        });
        await inside;
        const hb = await beat('held.web', 'held-a.example', 'fail');
        order.push('heartbeat');
        assert.equal(hb.status, 200, JSON.stringify(hb.body));
        assert.equal(hb.body.health, 'critical');
        assert.deepEqual(hosts(await healthy('held.web')), ['held-b.example'], 'this replica answers without it at once');
        release();
        await long;
        assert.deepEqual(order, ['heartbeat', 'long write'], 'the heartbeat did not wait for the write');
        await s.services.discovery.health.flush();
        assert.equal(s.services.discovery.health.queued(), 0);
        const audit = await s.call('GET', '/api/v1/audit?operation=discovery.instance.health&limit=10');
        const entry = audit.body.items.find((e: { target: string }) => e.target === 'held.web/held-a.example:8080');
        assert.ok(entry, JSON.stringify(audit.body));
        assert.deepEqual([entry.before, entry.after], [{ health: 'passing' }, { health: 'critical', reason: 'heartbeat fail' }]);
        await other.feed.catchUp();
        assert.deepEqual(hosts(other.discovery.resolve('held.web')!), ['held-b.example'], 'the other replica learnt it from the change feed');
      } finally {
        await other.stop();
      }
    });

    test('a failure and a pass before the write cancel out: no change event, nothing audited', async () => {
      await mkService(s, 'blip.web');
      const id = (await mkInstance(s, 'blip.web', 'blip-a.example', '10.18.0.1', { ttlSeconds: 60 })).id as number;
      assert.equal(typeof id, 'number');
      const changes: string[] = [];
      s.services.feed.on('discovery', (c) => {
        const p = c.payload as { kind: string; id?: number };
        if (p.kind === 'health' && p.id === id) changes.push(JSON.stringify(p));
      });
      let release!: () => void;
      let entered!: () => void;
      const inside = new Promise<void>((r) => (entered = r));
      const long = s.services.writer.run({ kind: 'system', id: null, name: 'test', superuser: true }, async () => {
        entered();
        await new Promise<void>((r) => (release = r));
      });
      await inside;
      assert.equal((await beat('blip.web', 'blip-a.example', 'fail')).body.health, 'critical');
      assert.equal((await beat('blip.web', 'blip-a.example', 'pass')).body.health, 'passing');
      release();
      await long;
      await s.services.discovery.health.flush();
      assert.deepEqual(changes, [], 'nothing to write: it is where it was');
      const audit = await s.call('GET', '/api/v1/audit?operation=discovery.instance.health&limit=200');
      assert.equal(audit.body.items.filter((e: { target: string }) => e.target.startsWith('blip.web/')).length, 0);
      assert.equal(await healthOf('blip.web', 'blip-a.example'), 'passing');
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
