import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { findProgram } from './nginx-binary.ts';
import { expectStatus, fileOf, mkDiscoveryService, mkDomain, mkInstance, mkNodes, setInstance, watchUntil } from './proxy-fixtures.test-util.ts';

const missing = findProgram('nginx') === null ? 'nginx not installed: apt-get install nginx-light' : '';
if (missing) console.error(`\n!!! SKIPPING nginx publish tests: ${missing}\n`);

for (const backend of testBackends()) {
  describe(`nginx config versions (${backend.name})`, { skip: missing || false }, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    /** A cluster `<p>.edge` serving `<p>.example.com` with service `<p>.web` on `/` and two instances. */
    async function setup(p: string, port: number): Promise<string> {
      await mkNodes(s, `${p}.edge`);
      await mkDiscoveryService(s, `${p}.web`, port);
      await mkInstance(s, `${p}.web`, `${p}-a.example`, '10.9.0.1', port);
      await mkInstance(s, `${p}.web`, `${p}-b.example`, '10.9.0.2', port, { weight: 3 });
      await mkDomain(s, `${p}.example.com`);
      expectStatus(await s.call('PUT', `/api/v1/nodes/${p}.web/nginx`, { domainUris: [{ domain: `${p}.example.com`, uri: '/' }], port }), 201);
      expectStatus(await s.call('PUT', `/api/v1/nginx/clusters/${p}.edge`, { domains: [`${p}.example.com`], listenAddress: '127.0.0.1' }), 201);
      return `/api/v1/nginx/clusters/${p}.edge`;
    }

    test('apply checks with nginx -t and publishes version 1; the config lists the instances with their weights', async () => {
      const url = await setup('ap', 8101);
      const applied = expectStatus(await s.call('POST', `${url}/apply`, { reason: 'first config' }), 200);
      assert.equal(applied.body.published, true);
      assert.equal(applied.body.version.version, 1);
      assert.equal(applied.body.version.author, 'admin');
      assert.match(applied.body.checkOutput, /test is successful/);
      const config = expectStatus(await s.call('GET', `${url}/config`), 200).body;
      assert.equal(config.version, 1);
      assert.deepEqual(config.files.map((f: { path: string }) => f.path), ['00-canopy-http.conf', '10-canopy-upstreams.conf', '20-canopy-servers.conf']);
      assert.match(fileOf(config, 'upstreams'), /upstream ap_web \{\n {4}server 10\.9\.0\.1:8101 weight=1;\n {4}server 10\.9\.0\.2:8101 weight=3;\n\}/);
      assert.match(fileOf(config, 'servers'), /listen 127\.0\.0\.1:8080;\n {4}server_name "ap\.example\.com";/);
      const again = expectStatus(await s.call('POST', `${url}/apply`, { reason: 'nothing changed' }), 200);
      assert.equal(again.body.published, false, 'an identical config is not a new version');
      assert.equal(again.body.version.version, 1);
    });

    test('plan shows a settings change as a diff; apply publishes it with author, reason and the same diff; rollback republishes v1', async () => {
      const url = await setup('ver', 8102);
      expectStatus(await s.call('POST', `${url}/apply`, { reason: 'v1' }), 200);
      expectStatus(await s.call('PUT', '/api/v1/nodes/ver.web/nginx', { domainUris: [{ domain: 'ver.example.com', uri: '/' }], port: 8102, balance: { method: 'least_conn' } }), 200);
      const plan = expectStatus(await s.call('POST', `${url}/plan`), 200).body;
      assert.equal(plan.baseVersion, 1);
      assert.deepEqual([plan.changed, plan.added, plan.removed], [true, 1, 0]);
      assert.match(plan.diff, /^--- a\/10-canopy-upstreams\.conf\tv1\n\+\+\+ b\/10-canopy-upstreams\.conf\tplan\n@@ /m);
      assert.match(plan.diff, /^\+ {4}least_conn;$/m);
      assert.equal(expectStatus(await s.call('GET', `${url}/config`), 200).body.version, 1, 'plan publishes nothing');
      const v2 = expectStatus(await s.call('POST', `${url}/apply`, { reason: 'switch to least_conn' }), 200).body;
      assert.equal(v2.version.version, 2);
      assert.equal(v2.diff, plan.diff.replace('\tplan', '\tv2'));
      const list = expectStatus(await s.call('GET', `${url}/versions`), 200).body;
      assert.deepEqual(list.items.map((v: { version: number; reason: string }) => [v.version, v.reason]), [[2, 'switch to least_conn'], [1, 'v1']]);
      const page = expectStatus(await s.call('GET', `${url}/versions?limit=1`), 200).body;
      assert.equal(page.nextCursor, '2');
      assert.deepEqual(expectStatus(await s.call('GET', `${url}/versions?cursor=2`), 200).body.items.map((v: { version: number }) => v.version), [1]);
      const detail = expectStatus(await s.call('GET', `${url}/versions/2`), 200).body;
      assert.equal(detail.diff, v2.diff);
      assert.match(fileOf(detail, 'upstreams'), /least_conn/);
      assert.equal((await s.call('GET', `${url}/versions/9`)).status, 404);
      const v1 = expectStatus(await s.call('GET', `${url}/versions/1`), 200).body;
      assert.match(v1.diff, /^--- \/dev\/null\tv0\n\+\+\+ b\/00-canopy-http\.conf\tv1$/m, 'the first version diffs against nothing');

      const rb = expectStatus(await s.call('POST', `${url}/rollback`, { version: 1, reason: 'least_conn misbehaves' }), 200).body;
      assert.deepEqual([rb.published, rb.version.version, rb.version.rollbackOf, rb.version.reason], [true, 3, 1, 'least_conn misbehaves']);
      assert.match(rb.diff, /^- {4}least_conn;$/m);
      const v3 = expectStatus(await s.call('GET', `${url}/config`), 200).body;
      assert.deepEqual(v3.files, v1.files, 'v3 carries v1 again');
      assert.equal((await s.call('POST', `${url}/rollback`, { version: 3 })).status, 400, 'the current version');
      const audit = expectStatus(await s.call('GET', '/api/v1/audit?under=ver'), 200).body.items.map((e: { operation: string }) => e.operation);
      assert.ok(audit.includes('nginx.apply') && audit.includes('nginx.rollback'), audit.join());
    });

    test('a config nginx -t refuses (a log directory that does not exist) is never published and the error is shown', async () => {
      const url = await setup('bad', 8103);
      expectStatus(await s.call('POST', `${url}/apply`, { reason: 'good' }), 200);
      expectStatus(await s.call('PUT', '/api/v1/nginx/clusters/bad.edge', { domains: ['bad.example.com'], listenAddress: '127.0.0.1', logDir: '/nonexistent/canopy/logs' }), 200);
      const refused = await s.call('POST', `${url}/apply`, { reason: 'logs' });
      assert.equal(refused.status, 422);
      assert.equal(refused.body.code, 'config_invalid');
      assert.equal(refused.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.match(refused.body.output, /\/nonexistent\/canopy\/logs\/bad\.example\.com_(access|error)\.log/);
      assert.match(refused.body.output, /test failed/);
      assert.equal(expectStatus(await s.call('GET', `${url}/config`), 200).body.version, 1);
      assert.equal(expectStatus(await s.call('GET', `${url}/versions`), 200).body.items.length, 1);
    });

    test('draining an instance publishes a new version by itself with that server down; watchers are told', async () => {
      const url = await setup('drn', 8104);
      expectStatus(await s.call('POST', `${url}/apply`, { reason: 'v1' }), 200);
      const waiting = s.call('GET', `${url}/watch?version=1&wait=20s`);
      await setInstance(s, 'drn.web', 'drn-a.example', 8104, { status: 'draining' });
      const next = expectStatus(await waiting, 200).body;
      assert.equal(next.version, 2, 'a new version, published by the backend change alone');
      assert.equal(next.author, 'system');
      assert.match(next.reason, /drn\.web: 10\.9\.0\.1:8104 up weight 1 → draining weight 1/);
      assert.match(fileOf(next, 'upstreams'), /server 10\.9\.0\.1:8104 weight=1 down;\n {4}server 10\.9\.0\.2:8104 weight=3;/);
      const detail = expectStatus(await s.call('GET', `${url}/versions/2`), 200).body;
      assert.match(detail.diff, /^- {4}server 10\.9\.0\.1:8104 weight=1;\n\+ {4}server 10\.9\.0\.1:8104 weight=1 down;$/m);
      assert.match(detail.checkOutput, /nginx -t checked the 1 upstream block\(s\) re-rendered since the last accepted version/);
      assert.match(detail.checkOutput, /test is successful/);

      await setInstance(s, 'drn.web', 'drn-b.example', 8104, { weight: 5 });
      const reweighted = await watchUntil(s, url, 2, (c) => /10\.9\.0\.2:8104 weight=5;/.test(fileOf(c, 'upstreams')));
      assert.match(reweighted.reason, /weight 3 → up weight 5/);
      expectStatus(await s.call('DELETE', '/api/v1/services/drn.web/instances/drn-a.example/8104'), 204);
      const removed = await watchUntil(s, url, reweighted.version, (c) => !fileOf(c, 'upstreams').includes('10.9.0.1'));
      assert.match(removed.reason, /10\.9\.0\.1:8104 removed/);
      expectStatus(await s.call('DELETE', '/api/v1/services/drn.web/instances/drn-b.example/8104'), 204);
      const empty = await watchUntil(s, url, removed.version, (c) => !fileOf(c, 'upstreams').includes('10.9.0.2'));
      assert.match(fileOf(empty, 'upstreams'), /server 127\.0\.0\.1:1 down;/, 'no live instance still renders');
    });

    test('watch answers at once when a newer version exists, and with the current one after the wait', async () => {
      const url = await setup('wch', 8105);
      assert.equal((await s.call('GET', `${url}/watch?version=0&wait=10ms`)).status, 404, 'nothing published yet');
      expectStatus(await s.call('POST', `${url}/apply`, { reason: 'v1' }), 200);
      assert.equal(expectStatus(await s.call('GET', `${url}/watch?version=0&wait=5m`), 200).body.version, 1);
      assert.equal(expectStatus(await s.call('GET', `${url}/watch?version=1&wait=50ms`), 200).body.version, 1);
      assert.equal((await s.call('GET', `${url}/watch?version=1&wait=forever`)).status, 400);
    });
  });
}
