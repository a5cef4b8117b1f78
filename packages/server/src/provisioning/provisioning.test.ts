/** The install system through the HTTP stack: requests, automatic binding, expiry, and the ENC fallback. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { mkNodes, startTestServer, testBackends, type TestServer } from '../testing/index.ts';

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
      // The bind happens in the create's own transaction, recorded under its creator.
      assert.deepEqual(m.body.provisioned, [{ requestId: r.body.id, nodePath: 'bind.db', via: 'owner' }]);
      const audit = await s.call('GET', '/api/v1/audit?under=bind');
      const ops = audit.body.items.map((e: { operation: string; actor: string }) => `${e.actor} ${e.operation}`);
      assert.ok(ops.includes('admin provisioning.bind'), ops.join(', '));
      assert.ok(ops.includes('admin machine.create'), ops.join(', '));
    });

    test('a machine created in another node is also bound to the requested one', async () => {
      await mk(null, 'other');
      await mk('other', 'a');
      await mk('other', 'b');
      const req = await request({ hostname: 'new3.example.com', nodePath: 'other.b', idc: 'dc3', zone: 'north' });
      const m = await s.call('POST', '/api/v1/machines', { hostname: 'new3.example.com', nodes: ['other.a'] });
      // The create response already shows where the request bound it, and the request's placement.
      assert.deepEqual([m.body.nodes, m.body.idc, m.body.zone], [['other.a', 'other.b'], 'dc3', 'north']);
      assert.deepEqual(m.body.provisioned, [{ requestId: req.body.id, nodePath: 'other.b', via: 'owner' }]);
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

    describe('who may claim an open request', () => {
      let bob: string;
      before(async () => {
        await mkNodes(s, 'corp.pay.api');
        await mkNodes(s, 'corp.find.query');
        await s.call('POST', '/api/v1/users', { username: 'bob', password: 'bob-password-1' });
        await s.call('POST', '/api/v1/grants', { user: 'bob', role: 'admin', nodePath: 'corp.find' });
        await s.call('POST', '/api/v1/users', { username: 'payops', password: 'payops-password-1' });
        await s.call('POST', '/api/v1/grants', { user: 'payops', role: 'ops', nodePath: 'corp.pay' });
        bob = await s.login('bob', 'bob-password-1');
      });
      const machine = (hostname: string) => s.call('GET', `/api/v1/machines/${hostname}`);

      test("bob's attack: a same-named machine he creates in his own node is not bound into pay's, and the request stays open", async () => {
        const req = await request({ hostname: 'pay-api-11', nodePath: 'corp.pay.api', idc: 'dc2', zone: 'west' });
        assert.equal(req.status, 201, JSON.stringify(req.body));
        const m = await s.call('POST', '/api/v1/machines', { hostname: 'pay-api-11', ips: ['10.66.6.6'], nodes: ['corp.find.query'] }, { token: bob });
        assert.equal(m.status, 201, JSON.stringify(m.body));
        assert.deepEqual(m.body.nodes, ['corp.find.query']);
        assert.equal(m.body.provisioned, undefined);
        await s.services.provisioning.settled();
        assert.deepEqual((await machine('pay-api-11')).body.nodes, ['corp.find.query']);
        assert.equal((await machine('pay-api-11')).body.zone, '', "pay's placement is not copied either");
        assert.equal((await s.call('GET', `/api/v1/provisioning/${req.body.id}`)).body.state, 'open');
        const enc = await s.call('GET', '/api/v1/enc/pay-api-11?format=json');
        assert.notEqual(enc.body.parameters?.canopy_node, 'corp.pay.api', "pay's classes do not reach bob's machine");
        // Changing his machine later (even reporting facts) proves nothing either: the request names no serial or MAC.
        await s.call('PATCH', '/api/v1/machines/pay-api-11', { facts: { macaddress: '02:00:00:00:00:11' } }, { token: bob });
        await s.services.provisioning.settled();
        assert.deepEqual((await machine('pay-api-11')).body.nodes, ['corp.find.query']);
      });

      test('a machine created by someone with machine.write on the requested node is bound, takes its IDC and zone, and says so', async () => {
        const payops = await s.login('payops', 'payops-password-1');
        const req = await request({ hostname: 'pay-api-12', nodePath: 'corp.pay.api', idc: 'dc2', zone: 'west' }, payops);
        assert.equal(req.status, 201, JSON.stringify(req.body));
        const m = await s.call('POST', '/api/v1/machines', { hostname: 'pay-api-12', ips: ['10.66.0.12'], nodes: ['corp.pay.api'], idc: 'dc9' }, { token: payops });
        assert.equal(m.status, 201, JSON.stringify(m.body));
        assert.deepEqual(m.body.provisioned, [{ requestId: req.body.id, nodePath: 'corp.pay.api', via: 'owner' }]);
        assert.deepEqual([m.body.nodes, m.body.idc, m.body.zone], [['corp.pay.api'], 'dc2', 'west']);
        const stored = (await machine('pay-api-12')).body;
        assert.deepEqual([stored.idc, stored.zone], ['dc2', 'west'], 'the placement was stored, not only shown');
        assert.equal((await s.call('GET', `/api/v1/provisioning/${req.body.id}`)).body.state, 'bound');
      });

      test('a machine whose serial and MAC match the request is bound, even when its creator has no rights on the node', async () => {
        const req = await request({ hostname: 'pay-api-13', nodePath: 'corp.pay.api', serial: 'SN-1313', mac: '02-AA-BB-CC-DD-13', zone: 'west' });
        assert.equal(req.status, 201, JSON.stringify(req.body));
        assert.deepEqual([req.body.serial, req.body.mac], ['SN-1313', '02:aa:bb:cc:dd:13']);
        // Wrong MAC: not the machine requested.
        const wrong = await s.call('POST', '/api/v1/machines', { hostname: 'pay-api-13', serial: 'SN-1313', nodes: ['corp.find.query'], facts: { macaddress: '02:aa:bb:cc:dd:99' } }, { token: bob });
        assert.equal(wrong.status, 201);
        assert.deepEqual(wrong.body.nodes, ['corp.find.query']);
        await s.call('POST', '/api/v1/machines/pay-api-13/retire', undefined, { token: bob });
        assert.equal((await s.call('GET', `/api/v1/provisioning/${req.body.id}`)).body.state, 'open');
        const req14 = await request({ hostname: 'pay-api-14', nodePath: 'corp.pay.api', serial: 'SN-1414', mac: '02:aa:bb:cc:dd:14', zone: 'west' });
        const right = await s.call('POST', '/api/v1/machines', {
          hostname: 'pay-api-14', serial: 'SN-1414', nodes: ['corp.find.query'], facts: { networking: { interfaces: { eth0: { mac: '02:aa:bb:cc:dd:14' } } } },
        }, { token: bob });
        assert.equal(right.status, 201);
        // Bob may not see pay's node: he learns that the request took his machine, not where it went.
        assert.deepEqual(right.body.provisioned, [{ requestId: req14.body.id, nodePath: null, via: 'serial+mac' }]);
        assert.deepEqual([right.body.nodes, right.body.hiddenNodeCount], [['corp.find.query'], 1], 'the bind he may not see is counted');
        assert.deepEqual((await machine('pay-api-14')).body.nodes, ['corp.find.query', 'corp.pay.api']);
        assert.equal((await s.call('GET', `/api/v1/provisioning/${req14.body.id}`)).body.state, 'bound');
        assert.equal((await machine('pay-api-14')).body.zone, 'west');
        const audit = await s.call('GET', '/api/v1/audit?under=corp.pay&limit=200');
        const bind = audit.body.items.find((e: { operation: string; target: string }) => e.operation === 'provisioning.bind' && e.target === 'pay-api-14');
        assert.equal(bind?.after?.via, 'serial+mac');
      });

      test('facts reported later (the agent) bind the machine once they match', async () => {
        const req = await request({ hostname: 'pay-api-15', nodePath: 'corp.pay.api', mac: '02:aa:bb:cc:dd:15' });
        const m = await s.call('POST', '/api/v1/machines', { hostname: 'pay-api-15', nodes: ['corp.find.query'] }, { token: bob });
        assert.deepEqual(m.body.nodes, ['corp.find.query']);
        await s.call('PATCH', '/api/v1/machines/pay-api-15', { facts: { macaddress: '02:AA:BB:CC:DD:15' } }, { token: bob });
        await s.services.provisioning.settled();
        assert.deepEqual((await machine('pay-api-15')).body.nodes, ['corp.find.query', 'corp.pay.api']);
        assert.equal((await s.call('GET', `/api/v1/provisioning/${req.body.id}`)).body.state, 'bound');
      });

      test('the enrollment seam binds a verified machine', async () => {
        const req = await request({ hostname: 'pay-api-16', nodePath: 'corp.pay.api' });
        await s.call('POST', '/api/v1/machines', { hostname: 'pay-api-16', nodes: ['corp.find.query'] }, { token: bob });
        await s.services.provisioning.settled();
        assert.equal((await s.call('GET', `/api/v1/provisioning/${req.body.id}`)).body.state, 'open');
        assert.equal(await s.services.provisioning.bindVerified('pay-api-16'), true);
        assert.deepEqual((await machine('pay-api-16')).body.nodes, ['corp.find.query', 'corp.pay.api']);
        assert.equal(await s.services.provisioning.bindVerified('pay-api-16'), false, 'closed: nothing left to bind');
      });

      test('a request for an existing machine on a node the requester cannot change does not bind it', async () => {
        await s.call('POST', '/api/v1/machines', { hostname: 'find-q-1', nodes: ['corp.find.query'] }, { token: bob });
        const payops = await s.login('payops', 'payops-password-1');
        const req = await request({ hostname: 'find-q-1', nodePath: 'corp.pay.api' }, payops);
        assert.equal(req.status, 201);
        assert.equal(req.body.state, 'open');
        assert.deepEqual((await machine('find-q-1')).body.nodes, ['corp.find.query']);
      });

      test('refuses a malformed MAC', async () => {
        assert.equal((await request({ hostname: 'pay-api-99', nodePath: 'corp.pay.api', mac: '02:aa:bb' })).status, 400);
      });
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
