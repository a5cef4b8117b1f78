/** The install system through the HTTP stack: requests, automatic binding, expiry, and the ENC fallback. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';

for (const backend of testBackends()) {
  describe(`provisioning (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
      await s.call('PUT', '/api/v1/puppet/classes', ['base', 'profile::web']);
    });
    after(() => s.close());

    const mk = (parentPath: string | null, name: string) => s.call('POST', '/api/v1/nodes', { parentPath, name });
    const request = (body: object, token?: string) => s.call('POST', '/api/v1/provisioning', body, token ? { token } : {});

    test('an install request is visible while the machine installs, and the ENC answers from it', async () => {
      await mk(null, 'inst');
      await mk('inst', 'web');
      await s.call('PUT', '/api/v1/nodes/inst.web/puppet', { classes: { 'profile::web': {} }, parameters: { tier: 'front' } });
      const r = await request({ hostname: 'new1.example.com', nodePath: 'inst.web', zone: 'east', idc: 'dc1', os: 'debian-12' });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.state, 'open');
      assert.equal(r.body.nodePath, 'inst.web');
      assert.equal(r.body.requestedBy, 'admin');
      const open = await s.call('GET', '/api/v1/provisioning?state=open');
      assert.ok(open.body.items.some((i: { hostname: string }) => i.hostname === 'new1.example.com'));
      const enc = await s.call('GET', '/api/v1/enc/new1.example.com?format=json');
      assert.equal(enc.status, 200);
      assert.equal(enc.body.source, 'provisioning');
      assert.deepEqual(enc.body.classes, { 'profile::web': {} });
      assert.deepEqual(enc.body.parameters, { canopy_node: 'inst.web', canopy_zone: 'east', canopy_idc: 'dc1', tier: 'front' });
    });

    test('when the machine appears it is bound to the requested node and the request closes', async () => {
      await mk(null, 'bind');
      await mk('bind', 'db');
      const r = await request({ hostname: 'new2.example.com', nodePath: 'bind.db' });
      const m = await s.call('POST', '/api/v1/machines', { hostname: 'new2.example.com' });
      assert.equal(m.status, 201);
      await s.services.provisioning.settled();
      const got = await s.call('GET', `/api/v1/provisioning/${r.body.id}`);
      assert.equal(got.body.state, 'bound');
      assert.equal(got.body.machineId, m.body.id);
      assert.deepEqual((await s.call('GET', '/api/v1/machines/new2.example.com')).body.nodes, ['bind.db']);
      const enc = await s.call('GET', '/api/v1/enc/new2.example.com?format=json');
      assert.equal(enc.body.source, 'tree');
      const audit = await s.call('GET', '/api/v1/audit?under=bind');
      const ops = audit.body.items.map((e: { operation: string; actor: string }) => `${e.actor} ${e.operation}`);
      assert.ok(ops.includes('provisioning provisioning.bind'), ops.join(', '));
      assert.ok(ops.includes('provisioning machine.bind'), ops.join(', '));
    });

    test('a machine created in another node is also bound to the requested one', async () => {
      await mk(null, 'other');
      await mk('other', 'a');
      await mk('other', 'b');
      await request({ hostname: 'new3.example.com', nodePath: 'other.b' });
      await s.call('POST', '/api/v1/machines', { hostname: 'new3.example.com', nodes: ['other.a'] });
      await s.services.provisioning.settled();
      assert.deepEqual((await s.call('GET', '/api/v1/machines/new3.example.com')).body.nodes, ['other.a', 'other.b']);
    });

    test('a request for a machine that already exists binds it at once', async () => {
      await mk(null, 'exist');
      await s.call('POST', '/api/v1/machines', { hostname: 'old1.example.com' });
      const r = await request({ hostname: 'old1.example.com', nodePath: 'exist' });
      assert.equal(r.status, 201);
      assert.equal(r.body.state, 'bound');
      assert.deepEqual((await s.call('GET', '/api/v1/machines/old1.example.com')).body.nodes, ['exist']);
    });

    test('one open request per host; a cancelled one makes room', async () => {
      await mk(null, 'dup');
      const first = await request({ hostname: 'dup1.example.com', nodePath: 'dup' });
      const again = await request({ hostname: 'dup1.example.com', nodePath: 'dup' });
      assert.equal(again.status, 409);
      assert.match(again.body.detail, new RegExp(`#${first.body.id}`));
      const cancel = await s.call('DELETE', `/api/v1/provisioning/${first.body.id}`);
      assert.equal(cancel.body.state, 'cancelled');
      assert.equal((await s.call('GET', '/api/v1/enc/dup1.example.com')).status, 404, 'a cancelled request no longer classifies');
      assert.equal((await request({ hostname: 'dup1.example.com', nodePath: 'dup' })).status, 201);
      assert.equal((await s.call('DELETE', `/api/v1/provisioning/${first.body.id}`)).status, 409);
    });

    test('a stale request counts as expired at once and the sweep marks it so', async () => {
      await mk(null, 'stale');
      const r = await request({ hostname: 'stale1.example.com', nodePath: 'stale', ttlHours: 1 });
      assert.equal((await s.call('GET', '/api/v1/enc/stale1.example.com')).status, 200);
      await s.database.db.execute(sql`UPDATE provisioning_requests SET expires_at = now() - interval '1 minute' WHERE id = ${r.body.id}`);
      await s.services.provisioning.load(s.database.db); // as after a restart: the model holds the past expiry
      assert.equal((await s.call('GET', '/api/v1/enc/stale1.example.com')).status, 404);
      assert.equal((await s.call('GET', `/api/v1/provisioning/${r.body.id}`)).body.state, 'expired');
      const open = await s.call('GET', '/api/v1/provisioning?state=open&hostname=stale1.example.com');
      assert.deepEqual(open.body.items, []);
      const swept = await s.services.provisioning.sweep();
      assert.ok(swept.expired >= 1);
      const rows = await s.call('GET', '/api/v1/provisioning?state=expired&hostname=stale1.example.com');
      assert.equal(rows.body.items.length, 1);
      assert.ok(rows.body.items[0].closedAt);
      await s.call('POST', '/api/v1/machines', { hostname: 'stale1.example.com' });
      await s.services.provisioning.settled();
      assert.deepEqual((await s.call('GET', '/api/v1/machines/stale1.example.com')).body.nodes, [], 'an expired request binds nothing');
      const unplaced = await s.call('GET', '/api/v1/enc/stale1.example.com');
      assert.equal(unplaced.status, 404);
      assert.match(unplaced.body.detail, /node or open install request for machine 'stale1\.example\.com' not found/);
    });

    test('creating needs machine.write on the node; listing needs a subtree unless superuser', async () => {
      await mk(null, 'pv');
      await s.call('POST', '/api/v1/users', { username: 'pvviewer', password: 'viewer-password-1' });
      await s.call('POST', '/api/v1/grants', { user: 'pvviewer', role: 'viewer', nodePath: 'pv' });
      const token = await s.login('pvviewer', 'viewer-password-1');
      assert.equal((await request({ hostname: 'pv1.example.com', nodePath: 'pv' }, token)).status, 403);
      assert.equal((await request({ hostname: 'pv1.example.com', nodePath: 'inst' }, token)).status, 404);
      assert.equal((await s.call('GET', '/api/v1/provisioning', undefined, { token })).status, 403);
      await request({ hostname: 'pv1.example.com', nodePath: 'pv' });
      const mine = await s.call('GET', '/api/v1/provisioning?under=pv', undefined, { token });
      assert.deepEqual(mine.body.items.map((i: { hostname: string }) => i.hostname), ['pv1.example.com']);
    });

    test('refuses bad input with 400 and records nothing', async () => {
      const before = (await s.call('GET', '/api/v1/provisioning?limit=1000')).body.items.length;
      for (const bad of [
        { hostname: 'Bad_Host', nodePath: 'inst' },
        { hostname: 'ok.example.com', nodePath: 'Inst' },
        { hostname: 'ok.example.com', nodePath: 'inst', ttlHours: 0 },
        { hostname: 'ok.example.com', nodePath: 'inst', zone: 'East Coast' },
        { hostname: 'ok.example.com', nodePath: 'inst', bogus: 1 },
      ]) {
        const r = await request(bad);
        assert.equal(r.status, 400, JSON.stringify(bad));
      }
      assert.equal((await s.call('GET', '/api/v1/provisioning?limit=1000')).body.items.length, before);
    });
  });
}
