/** Builds without agents: settings inheritance, who may do what, the queue's reasons, cancelling a queued build. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkNodes, startTestServer, testBackends, type TestServer } from '../testing/index.ts';

const BUILD = { repo: 'https://git.example.com/corp/app.git', ref: 'main', command: 'make', outputPath: 'dist' };

for (const backend of testBackends()) {
  describe(`builds API (${backend.name})`, () => {
    let s: TestServer;
    let dev: string;
    let viewer: string;
    before(async () => {
      s = await startTestServer(backend);
      await mkNodes(s, 'bq.pool');
      await mkNodes(s, 'bq.svc.api');
      await mkNodes(s, 'bq.other');
      assert.equal((await s.call('POST', '/api/v1/machines', { hostname: 'bq-builder-1', ips: ['10.9.0.1'], nodes: ['bq.pool'], status: 'online' })).status, 201);
      for (const [user, role, path] of [['bq-dev', 'developer', 'bq.svc'], ['bq-viewer', 'viewer', 'bq.svc']] as const) {
        assert.equal((await s.call('POST', '/api/v1/users', { username: user, password: 'password-123' })).status, 201);
        assert.equal((await s.call('POST', '/api/v1/grants', { user, role, nodePath: path })).status, 201);
      }
      dev = await s.login('bq-dev', 'password-123');
      viewer = await s.login('bq-viewer', 'password-123');
      assert.equal((await s.call('PUT', '/api/v1/nodes/bq/build-settings', { pool: 'bq.pool', maxPerMachine: 2 })).status, 200);
    });
    after(() => s.close());

    test('settings inherit field by field, and naming a pool needs the right to run commands on it', async () => {
      const refused = await s.call('PUT', '/api/v1/nodes/bq.svc/build-settings', { pool: 'bq.pool' }, { token: dev });
      assert.equal(refused.status, 400, 'the developer cannot even see the pool node');
      assert.match(refused.body.detail, /no node 'bq.pool' to build on/);
      assert.equal((await s.call('POST', '/api/v1/grants', { user: 'bq-dev', role: 'viewer', nodePath: 'bq.pool' })).status, 201);
      const forbidden = await s.call('PUT', '/api/v1/nodes/bq.svc/build-settings', { pool: 'bq.pool' }, { token: dev });
      assert.equal(forbidden.status, 403, 'seeing the pool is not enough: builds run as root there');
      assert.match(forbidden.body.detail, /machine\.root/);
      const own = await s.call('PUT', '/api/v1/nodes/bq.svc/build-settings', { maxPerMachine: 3 }, { token: dev });
      assert.equal(own.status, 200, JSON.stringify(own.body));
      const v = (await s.call('GET', '/api/v1/nodes/bq.svc.api/build-settings', undefined, { token: viewer })).body;
      assert.deepEqual(v.effective, { pool: { value: 'bq.pool', from: 'bq' }, maxPerMachine: { value: 3, from: 'bq.svc' }, user: { value: 'root', from: null } });
      assert.deepEqual(v.own, { pool: null, maxPerMachine: null, user: null });
      assert.equal((await s.call('PUT', '/api/v1/nodes/bq.svc/build-settings', { maxPerMachine: null }, { token: dev })).status, 200);
      assert.equal((await s.call('GET', '/api/v1/nodes/bq.svc.api/build-settings')).body.effective.maxPerMachine.value, 2);
      assert.equal((await s.call('PUT', '/api/v1/nodes/bq.svc/build-settings', { pool: 'bq.nowhere' })).status, 400);
      assert.equal((await s.call('PUT', '/api/v1/nodes/bq.svc/build-settings', { user: 'Bad User' })).status, 400);
    });

    test('a build waits, saying why, while no agent of its pool is connected; cancelling it ends it at once', async () => {
      const r = await s.call('POST', '/api/v1/builds', { nodePath: 'bq.svc.api', ...BUILD }, { token: dev });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.state, 'queued');
      assert.equal(r.body.pool, 'bq.pool');
      assert.equal(r.body.reason, 'no agent of pool bq.pool is connected');
      assert.equal((await s.call('GET', `/api/v1/builds/${r.body.id}/log`, undefined, { token: viewer })).status, 200);
      assert.equal((await s.call('POST', `/api/v1/builds/${r.body.id}/cancel`, undefined, { token: viewer })).status, 403);
      const c = await s.call('POST', `/api/v1/builds/${r.body.id}/cancel`, undefined, { token: dev });
      assert.equal(c.status, 200);
      assert.equal(c.body.state, 'cancelled');
      assert.equal(c.body.reason, 'cancelled by bq-dev');
      assert.equal(c.body.taskId, null, 'it never reached a machine');
      const audit = await s.call('GET', '/api/v1/audit?limit=20');
      const create = audit.body.items.find((e: { operation: string; target: string }) => e.operation === 'build.create' && e.target === String(r.body.id));
      assert.ok(create, 'the build is audited');
    });

    test('reading needs deploy.read, starting deploy.run; a node out of sight is not found', async () => {
      assert.equal((await s.call('POST', '/api/v1/builds', { nodePath: 'bq.svc.api', ...BUILD }, { token: viewer })).status, 403);
      assert.equal((await s.call('POST', '/api/v1/builds', { nodePath: 'bq.other', ...BUILD }, { token: dev })).status, 404);
      const list = await s.call('GET', '/api/v1/builds?under=bq.svc', undefined, { token: viewer });
      assert.equal(list.status, 200);
      assert.ok(list.body.items.length >= 1);
      assert.equal((await s.call('GET', '/api/v1/builds', undefined, { token: viewer })).status, 404, 'only superusers list every build');
      assert.equal((await s.call('GET', '/api/v1/builds/999999')).status, 404);
    });

    test('a renamed service keeps its builds, shown at the new path', async () => {
      const r = await s.call('POST', '/api/v1/builds', { nodePath: 'bq.svc.api', ...BUILD, version: 'before-rename' });
      assert.equal(r.status, 201);
      const renamed = await s.call('PATCH', '/api/v1/nodes/bq.svc.api', { name: 'api2' });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      const list = (await s.call('GET', '/api/v1/builds?under=bq.svc.api2')).body.items;
      assert.deepEqual(list.map((b: { id: number; nodePath: string }) => [b.id, b.nodePath]).slice(0, 1), [[r.body.id, 'bq.svc.api2']]);
      assert.equal((await s.call('GET', `/api/v1/builds/${r.body.id}`)).body.nodePath, 'bq.svc.api2');
    });
  });
}
