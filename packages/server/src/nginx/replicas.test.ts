/**
 * Published versions survive a restart of the read models, and several server replicas over one
 * PostgreSQL publish one version per backend change, not one each.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServices, type Services } from '../services.ts';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { findProgram } from './nginx-binary.ts';
import { expectStatus, fileOf, mkDiscoveryService, mkDomain, mkInstance, mkNodes, setInstance, watchUntil } from './proxy-fixtures.test-util.ts';

const missing = findProgram('nginx') === null ? 'nginx not installed: apt-get install nginx-light' : '';

for (const backend of testBackends()) {
  describe(`nginx versions across restarts and replicas (${backend.name})`, { skip: missing || false }, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    async function setup(p: string): Promise<string> {
      await mkNodes(s, `${p}.edge`);
      await mkDiscoveryService(s, `${p}.web`, 8200);
      await mkInstance(s, `${p}.web`, `${p}-a.example`, '10.8.0.1', 8200);
      await mkInstance(s, `${p}.web`, `${p}-b.example`, '10.8.0.2', 8200);
      await mkDomain(s, `${p}.example.com`);
      expectStatus(await s.call('PUT', `/api/v1/nodes/${p}.web/nginx`, { domainUris: [{ domain: `${p}.example.com`, uri: '/' }], port: 8200 }), 201);
      expectStatus(await s.call('PUT', `/api/v1/nginx/clusters/${p}.edge`, { domains: [`${p}.example.com`] }), 201);
      const url = `/api/v1/nginx/clusters/${p}.edge`;
      expectStatus(await s.call('POST', `${url}/apply`, { reason: 'v1' }), 200);
      return url;
    }

    test('after a restart the published version is served from the database and backend changes still publish', async () => {
      const url = await setup('rst');
      const v1 = expectStatus(await s.call('GET', `${url}/config`), 200).body;
      await s.services.nginx.load(s.database.db);
      await s.services.nginx.publisher.flush();
      assert.deepEqual(expectStatus(await s.call('GET', `${url}/config`), 200).body, v1, 'nothing changed, nothing published');
      await setInstance(s, 'rst.web', 'rst-b.example', 8200, { status: 'draining' });
      const v2 = await watchUntil(s, url, 1, (c) => fileOf(c, 'upstreams').includes('10.8.0.2:8200 weight=1 down;'));
      assert.equal(v2.version, 2);
      const detail = expectStatus(await s.call('GET', `${url}/versions/2`), 200).body;
      assert.doesNotMatch(detail.checkOutput, /upstream block/, 'with no render cache the whole config is checked');
      assert.deepEqual(detail.input, expectStatus(await s.call('GET', `${url}/versions/1`), 200).body.input, 'the snapshot is kept');
    });

    test('a renamed cluster node keeps its versions and a renamed service keeps its backends', async () => {
      await setup('mvd');
      expectStatus(await s.call('PATCH', '/api/v1/nodes/mvd.edge', { name: 'front' }), 200);
      expectStatus(await s.call('PATCH', '/api/v1/nodes/mvd.web', { name: 'www' }), 200);
      const url = '/api/v1/nginx/clusters/mvd.front';
      assert.equal(expectStatus(await s.call('GET', `${url}/config`), 200).body.version, 1);
      await setInstance(s, 'mvd.www', 'mvd-a.example', 8200, { status: 'draining' });
      const v2 = await watchUntil(s, url, 1, (c) => fileOf(c, 'upstreams').includes('10.8.0.1:8200 weight=1 down;'));
      assert.match(fileOf(v2, 'upstreams'), /^upstream mvd_web \{$/m, 'the published snapshot keeps its upstream name until the next apply');
      const plan = expectStatus(await s.call('POST', `${url}/plan`), 200).body;
      assert.match(plan.diff, /^\+upstream mvd_www \{$/m, 'the next apply takes the new default name');
    });

    test('two replicas publish one version per backend change', { skip: backend.name === 'pglite' ? 'PGlite serves one process: no second replica' : false }, async () => {
      const url = await setup('rep');
      const second: Services = createServices(s.database, { onError: (err) => console.error(err) });
      await second.start();
      try {
        const edge = second.tree.model.byPath('rep.edge');
        assert.ok(edge);
        await setInstance(s, 'rep.web', 'rep-a.example', 8200, { weight: 4 });
        const v2 = await watchUntil(s, url, 1, (c) => fileOf(c, 'upstreams').includes('10.8.0.1:8200 weight=4;'));
        await second.feed.catchUp();
        await Promise.all([second.nginx.publisher.flush(), s.services.nginx.publisher.flush()]);
        await second.feed.catchUp();
        assert.equal(second.nginx.publisher.latest(edge.id)?.number, v2.version, 'the second replica sees the same version');
        const list = expectStatus(await s.call('GET', `${url}/versions`), 200).body.items;
        assert.deepEqual(list.map((v: { version: number }) => v.version), [2, 1], 'one version for one change');
        assert.deepEqual((await second.nginx.publisher.current(edge.id)).files.map((f) => f.content), v2.files.map((f: { content: string }) => f.content));
      } finally {
        await second.stop();
      }
    });
  });
}
