import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { findProgram } from './nginx-binary.ts';
import { expectStatus, mkDomain, mkNodes, userWith } from './proxy-fixtures.test-util.ts';

for (const backend of testBackends()) {
  describe(`nginx settings API (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    const svc = (domain: string, uri: string, extra: object = {}) => ({ domainUris: [{ domain, uri }], port: 8080, ...extra });

    test('a domain is stored with defaults and read back; the body may not name another domain', async () => {
      const put = expectStatus(await s.call('PUT', '/api/v1/domains/dom.example.com', { ports: [{ port: 80 }, { port: 8443, ssl: true }], sslCertPath: '/etc/ssl/a.pem', sslCertKeyPath: '/etc/ssl/a.key' }), 201);
      assert.deepEqual(put.body.ports, [{ port: 80, ssl: false }, { port: 8443, ssl: true }]);
      assert.equal(expectStatus(await s.call('GET', '/api/v1/domains/dom.example.com'), 200).body.sslCertPath, '/etc/ssl/a.pem');
      expectStatus(await s.call('PUT', '/api/v1/domains/dom.example.com', { ports: [{ port: 80 }] }), 200);
      const other = await s.call('PUT', '/api/v1/domains/dom.example.com', { domain: 'evil.com', ports: [{ port: 80 }] });
      assert.equal(other.status, 400);
      const list = await s.call('GET', '/api/v1/domains');
      assert.ok(list.body.items.some((d: { domain: string }) => d.domain === 'dom.example.com'));
    });

    test('refuses a domain, URI or attribute that would inject nginx syntax, with 400 and no change', async () => {
      const bad = await s.call('PUT', `/api/v1/domains/${encodeURIComponent('a.com; include /etc/passwd')}`, { ports: [{ port: 80 }] });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'validation_failed');
      assert.equal((await s.call('GET', `/api/v1/domains/${encodeURIComponent('a.com; include /etc/passwd')}`)).status, 400);
      await mkNodes(s, 'inj.web');
      await mkDomain(s, 'inj.example.com');
      for (const uri of ['/a{', '/a;b', '/a\nb', '/a}b', '/$host']) {
        const r = await s.call('PUT', '/api/v1/nodes/inj.web/nginx', svc('inj.example.com', uri));
        assert.equal(r.status, 400, JSON.stringify(uri));
      }
      const attr = await s.call('PUT', '/api/v1/nodes/inj.web/nginx', svc('inj.example.com', '/', { attributes: { include: '/etc/passwd' } }));
      assert.equal(attr.status, 400);
      const header = await s.call('PUT', '/api/v1/nodes/inj.web/nginx', svc('inj.example.com', '/', { attributes: { add_header: [{ name: 'X-A', value: 'x"; include /etc/passwd; #' }] } }));
      assert.equal(header.status, 400);
      assert.equal((await s.call('GET', '/api/v1/nodes/inj.web/nginx')).status, 404, 'nothing was stored');
    });

    test('a service must name defined domains, and a domain URI or upstream name belongs to one service', async () => {
      await mkNodes(s, 'own.a');
      await mkNodes(s, 'own.b');
      const undefinedDomain = await s.call('PUT', '/api/v1/nodes/own.a/nginx', svc('nowhere.example.com', '/'));
      assert.equal(undefinedDomain.status, 400);
      assert.match(undefinedDomain.body.detail, /not defined/);
      await mkDomain(s, 'own.example.com');
      expectStatus(await s.call('PUT', '/api/v1/nodes/own.a/nginx', svc('own.example.com', '/api')), 201);
      const clash = await s.call('PUT', '/api/v1/nodes/own.b/nginx', svc('own.example.com', '/api'));
      assert.equal(clash.status, 409);
      assert.match(clash.body.detail, /already served by own\.a/);
      const upstream = await s.call('PUT', '/api/v1/nodes/own.b/nginx', svc('own.example.com', '/b', { upstream: 'own_a' }));
      assert.equal(upstream.status, 409);
      expectStatus(await s.call('PUT', '/api/v1/nodes/own.b/nginx', svc('own.example.com', '/b')), 201);
      const inUse = await s.call('DELETE', '/api/v1/domains/own.example.com');
      assert.equal(inUse.status, 409);
      assert.match(inUse.body.detail, /service own\.a/);
    });

    test('settings are kept by node id: a rename keeps them and the default upstream follows the new path', async () => {
      await mkNodes(s, 'ren.old');
      await mkDomain(s, 'ren.example.com');
      const put = expectStatus(await s.call('PUT', '/api/v1/nodes/ren.old/nginx', svc('ren.example.com', '/', { balance: { method: 'ip_hash' } })), 201);
      assert.equal(put.body.effectiveUpstream, 'ren_old');
      expectStatus(await s.call('PATCH', '/api/v1/nodes/ren.old', { name: 'new' }), 200);
      const got = expectStatus(await s.call('GET', '/api/v1/nodes/ren.new/nginx'), 200);
      assert.deepEqual(got.body.balance, { method: 'ip_hash' });
      assert.equal(got.body.effectiveUpstream, 'ren_new');
    });

    test('a cluster needs defined domains that agree on ssl per port', async () => {
      await mkNodes(s, 'cl.edge');
      await mkDomain(s, 'plain.cl.example.com', 9443);
      expectStatus(await s.call('PUT', '/api/v1/domains/tls.cl.example.com', { ports: [{ port: 9443, ssl: true }], sslCertPath: '/c.pem', sslCertKeyPath: '/c.key' }), 201);
      const missing = await s.call('PUT', '/api/v1/nginx/clusters/cl.edge', { domains: ['ghost.cl.example.com'] });
      assert.equal(missing.status, 400);
      const mixed = await s.call('PUT', '/api/v1/nginx/clusters/cl.edge', { domains: ['plain.cl.example.com', 'tls.cl.example.com'] });
      assert.equal(mixed.status, 400);
      assert.match(mixed.body.detail, /cannot mix ssl and plain/);
      const ok = expectStatus(await s.call('PUT', '/api/v1/nginx/clusters/cl.edge', { domains: ['plain.cl.example.com'], listenAddress: '127.0.0.1' }), 201);
      assert.deepEqual([ok.body.domains, ok.body.listenAddress, ok.body.published], [['plain.cl.example.com'], '127.0.0.1', null]);
      assert.equal((await s.call('PUT', '/api/v1/nginx/clusters/cl.edge', { domains: [], listenAddress: '0.0.0.0; x' })).status, 400);
    });

    test('authorization: nginx.write on the node; invisible nodes answer 404; domains need their owner (or superuser)', async () => {
      await mkNodes(s, 'authz.team.web');
      await mkNodes(s, 'authz.team.edge');
      await mkNodes(s, 'authz.other');
      await mkDomain(s, 'authz.example.com', 8080, { owner: 'authz.team' });
      await mkDomain(s, 'authz2.example.com');
      expectStatus(await s.call('PUT', '/api/v1/nginx/clusters/authz.team.edge', { domains: ['authz.example.com'] }), 201);
      const viewer = await userWith(s, 'nginx-viewer', 'viewer', 'authz.team');
      const ops = await userWith(s, 'nginx-ops', 'ops', 'authz.team');
      const body = svc('authz.example.com', '/');
      assert.equal((await s.call('PUT', '/api/v1/nodes/authz.team.web/nginx', body, { token: viewer })).status, 403);
      assert.equal((await s.call('PUT', '/api/v1/nodes/authz.other/nginx', body, { token: ops })).status, 404);
      expectStatus(await s.call('PUT', '/api/v1/nodes/authz.team.web/nginx', body, { token: ops }), 201);
      assert.equal((await s.call('GET', '/api/v1/nodes/authz.team.web/nginx', undefined, { token: viewer })).status, 200);
      // The ops user holds nginx.write on the owner, so may change it; a new domain needs an owner they hold nginx.write on.
      expectStatus(await s.call('PUT', '/api/v1/domains/authz.example.com', { ports: [{ port: 8081 }] }, { token: ops }), 200);
      assert.equal((await s.call('PUT', '/api/v1/domains/new.authz.example.com', { ports: [{ port: 80 }] }, { token: ops })).status, 400);
      assert.equal((await s.call('PUT', '/api/v1/domains/new.authz.example.com', { ports: [{ port: 80 }], owner: 'authz.other' }, { token: ops })).status, 404);
      expectStatus(await s.call('PUT', '/api/v1/domains/new.authz.example.com', { ports: [{ port: 80 }], owner: 'authz.team' }, { token: ops }), 201);
      // authz2 is unowned: only a superuser routes from it until one is set.
      assert.equal((await s.call('PUT', '/api/v1/nodes/authz.team.web/nginx', svc('authz2.example.com', '/'), { token: ops })).status, 403);
      assert.equal((await s.call('PUT', '/api/v1/domains/authz2.example.com', { ports: [{ port: 80 }] }, { token: viewer })).status, 403);
      assert.equal((await s.call('POST', '/api/v1/nginx/clusters/authz.team.edge/apply', { reason: 'x' }, { token: viewer })).status, 403);
      assert.equal((await s.call('GET', '/api/v1/nginx/clusters/authz.team.edge/versions', undefined, { token: viewer })).status, 200);
      assert.equal((await s.call('GET', '/api/v1/domains', undefined, { token: null })).status, 401);
    });

    test('plan answers the diff without publishing', { skip: findProgram('nginx') ? false : 'nginx not installed' }, async () => {
      await mkNodes(s, 'plan.web');
      await mkNodes(s, 'plan.edge');
      await mkDomain(s, 'plan.example.com');
      expectStatus(await s.call('PUT', '/api/v1/nodes/plan.web/nginx', svc('plan.example.com', '/')), 201);
      expectStatus(await s.call('PUT', '/api/v1/nginx/clusters/plan.edge', { domains: ['plan.example.com'] }), 201);
      const plan = expectStatus(await s.call('POST', '/api/v1/nginx/clusters/plan.edge/plan'), 200);
      assert.equal(plan.body.baseVersion, 0);
      assert.equal(plan.body.changed, true);
      assert.match(plan.body.diff, /^\+upstream plan_web \{$/m);
      assert.equal((await s.call('GET', '/api/v1/nginx/clusters/plan.edge/config')).status, 404, 'nothing published');
      assert.deepEqual((await s.call('GET', '/api/v1/nginx/clusters/plan.edge/versions')).body.items, []);
    });
  });
}
