/** Domain owners and URI-prefix delegations, through the API: one team cannot route another team's domain. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { expectStatus, mkDomain, mkNodes, userWith } from './proxy-fixtures.test-util.ts';

const svc = (domain: string, uri: string, port = 8000) => ({ domainUris: [{ domain, uri }], port });

for (const backend of testBackends()) {
  describe(`nginx domain ownership (${backend.name})`, () => {
    let s: TestServer;
    let bob = '';
    let pam = '';
    before(async () => {
      s = await startTestServer(backend);
      for (const p of ['corp.pay.web', 'corp.pay.api', 'corp.find.frontend', 'corp.find.query']) await mkNodes(s, p);
      await mkDomain(s, 'pay.example.com', 8080, { owner: 'corp.pay' });
      expectStatus(await s.call('PUT', '/api/v1/nodes/corp.pay.web/nginx', svc('pay.example.com', '/', 9000)), 201);
      bob = await userWith(s, 'bob', 'admin', 'corp.find');
      pam = await userWith(s, 'pam', 'admin', 'corp.pay');
      expectStatus(await s.call('POST', '/api/v1/grants', { user: 'pam', role: 'viewer', nodePath: 'corp.find' }), 201);
    });
    after(() => s.close());

    test("bob's attack from the issue: attaching a URI of pay's domain to his service is 403 and changes nothing", async () => {
      const before = (await s.call('GET', '/api/v1/audit?limit=1')).body.items[0]?.id;
      const r = await s.call('PUT', '/api/v1/nodes/corp.find.frontend/nginx', { domainUris: [{ domain: 'pay.example.com', uri: '/api/v2/' }], port: 8000 }, { token: bob });
      assert.equal(r.status, 403);
      assert.match(r.body.detail, /nginx\.write on the domain's owner, a node you cannot see, or a delegation of a prefix of '\/api\/v2\/' to corp\.find\.frontend/);
      assert.doesNotMatch(r.body.detail, /corp\.pay/, 'the owner bob cannot see is not named');
      assert.equal((await s.call('GET', '/api/v1/nodes/corp.find.frontend/nginx', undefined, { token: bob })).status, 404, 'nothing stored');
      assert.equal((await s.call('GET', '/api/v1/audit?limit=1')).body.items[0]?.id, before, 'nothing audited');
      const shown = expectStatus(await s.call('GET', '/api/v1/domains/pay.example.com', undefined, { token: bob }), 200).body;
      assert.deepEqual([shown.owner, shown.ownerHidden], [null, true]);
    });

    test('bob may not delegate, move or delete a domain he does not own', async () => {
      const del = await s.call('POST', '/api/v1/domains/pay.example.com/delegations', { uriPrefix: '/api/v2/', node: 'corp.find' }, { token: bob });
      assert.equal(del.status, 403);
      assert.equal((await s.call('PUT', '/api/v1/domains/pay.example.com', { ports: [{ port: 8080 }], owner: 'corp.find' }, { token: bob })).status, 403);
      assert.equal((await s.call('DELETE', '/api/v1/domains/pay.example.com', undefined, { token: bob })).status, 403);
      assert.equal(expectStatus(await s.call('GET', '/api/v1/domains/pay.example.com'), 200).body.owner, 'corp.pay');
    });

    test('a new domain needs an owner where the creator holds nginx.write', async () => {
      const none = await s.call('PUT', '/api/v1/domains/find.example.com', { ports: [{ port: 80 }] }, { token: bob });
      assert.equal(none.status, 400);
      assert.match(none.body.detail, /needs an owner/);
      assert.equal((await s.call('PUT', '/api/v1/domains/find.example.com', { ports: [{ port: 80 }], owner: 'corp.pay' }, { token: bob })).status, 404, 'an owner bob cannot see');
      const made = expectStatus(await s.call('PUT', '/api/v1/domains/find.example.com', { ports: [{ port: 80 }], owner: 'corp.find' }, { token: bob }), 201).body;
      assert.deepEqual([made.owner, made.updatedBy], ['corp.find', 'bob']);
      expectStatus(await s.call('PUT', '/api/v1/nodes/corp.find.query/nginx', svc('find.example.com', '/', 8100), { token: bob }), 201);
    });

    test('a delegation of /api/v2/ to corp.find lets corp.find.* attach URIs under it, and only under it', async () => {
      const d = expectStatus(await s.call('POST', '/api/v1/domains/pay.example.com/delegations', { uriPrefix: '/api/v2/', node: 'corp.find' }, { token: pam }), 201).body;
      assert.deepEqual([d.uriPrefix, d.node, d.by], ['/api/v2/', 'corp.find', 'pam']);
      assert.match(d.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      assert.equal((await s.call('POST', '/api/v1/domains/pay.example.com/delegations', { uriPrefix: '/api/v2/', node: 'corp.find' }, { token: pam })).status, 409);
      assert.equal((await s.call('POST', '/api/v1/domains/pay.example.com/delegations', { uriPrefix: 'api;', node: 'corp.find' }, { token: pam })).status, 400);
      expectStatus(await s.call('PUT', '/api/v1/nodes/corp.find.frontend/nginx', svc('pay.example.com', '/api/v2/'), { token: bob }), 201);
      const v3 = await s.call('PUT', '/api/v1/nodes/corp.find.frontend/nginx', { domainUris: [{ domain: 'pay.example.com', uri: '/api/v2/' }, { domain: 'pay.example.com', uri: '/api/v3/' }], port: 8000 }, { token: bob });
      assert.equal(v3.status, 403, 'outside the delegated prefix');
      expectStatus(await s.call('PUT', '/api/v1/nodes/corp.find.frontend/nginx', svc('pay.example.com', '/api/v2/', 8001), { token: bob }), 200);
      const audit = expectStatus(await s.call('GET', '/api/v1/audit?limit=20'), 200).body.items.map((e: { operation: string }) => e.operation);
      assert.ok(audit.includes('nginx.domain.delegate'), audit.join());
      const seen = expectStatus(await s.call('GET', '/api/v1/domains/pay.example.com/delegations', undefined, { token: bob }), 200).body;
      assert.deepEqual(seen.items.map((x: { node: string }) => x.node), ['corp.find']);
    });

    test('removing a delegation stops new attachments and is audited', async () => {
      const list = expectStatus(await s.call('GET', '/api/v1/domains/pay.example.com/delegations'), 200).body.items;
      const id = list[0].id;
      assert.equal((await s.call('DELETE', `/api/v1/domains/pay.example.com/delegations/${id}`, undefined, { token: bob })).status, 403);
      expectStatus(await s.call('DELETE', `/api/v1/domains/pay.example.com/delegations/${id}`, undefined, { token: pam }), 204);
      assert.equal((await s.call('DELETE', `/api/v1/domains/pay.example.com/delegations/${id}`, undefined, { token: pam })).status, 404);
      const r = await s.call('PUT', '/api/v1/nodes/corp.find.query/nginx', { domainUris: [{ domain: 'find.example.com', uri: '/' }, { domain: 'pay.example.com', uri: '/api/v2/q/' }], port: 8100 }, { token: bob });
      assert.equal(r.status, 403);
    });

    test('a node that owns a domain cannot be deleted until the domain has another owner', async () => {
      await mkNodes(s, 'gone.team');
      await mkDomain(s, 'gone.example.com', 8080, { owner: 'gone.team' });
      const refused = await s.call('DELETE', '/api/v1/nodes/gone.team');
      assert.equal(refused.status, 409);
      assert.match(refused.body.detail, /'gone\.team' owns the nginx domain gone\.example\.com/);
      expectStatus(await s.call('PUT', '/api/v1/domains/gone.example.com', { ports: [{ port: 8080 }], owner: 'corp' }), 200);
      expectStatus(await s.call('DELETE', '/api/v1/nodes/gone.team'), 204);
    });

    test("migration 0500 gives existing domains the nearest common ancestor of their services, else of their clusters, else none", async () => {
      for (const p of ['mig.shop.web', 'mig.shop.api.v1', 'mig.edge', 'other.web']) await mkNodes(s, p);
      for (const d of ['shop.mig.example.com', 'edge.mig.example.com', 'split.mig.example.com', 'idle.mig.example.com']) await mkDomain(s, d);
      expectStatus(await s.call('PUT', '/api/v1/nodes/mig.shop.web/nginx', { domainUris: [{ domain: 'shop.mig.example.com', uri: '/' }, { domain: 'split.mig.example.com', uri: '/' }], port: 1 }), 201);
      expectStatus(await s.call('PUT', '/api/v1/nodes/mig.shop.api.v1/nginx', svc('shop.mig.example.com', '/api/', 2)), 201);
      expectStatus(await s.call('PUT', '/api/v1/nodes/other.web/nginx', svc('split.mig.example.com', '/o/', 3)), 201);
      expectStatus(await s.call('PUT', '/api/v1/nginx/clusters/mig.edge', { domains: ['edge.mig.example.com'] }), 201);
      // Run the backfill as it ran on a database that had these domains before the table existed.
      const text = readFileSync(join(import.meta.dirname, '../db/migrations/0500_nginx_domain_owners.sql'), 'utf8');
      await s.database.exec(`DELETE FROM nginx_domain_access;\n${text.slice(text.indexOf('WITH users AS'))}`);
      await s.services.nginx.load(s.database.db);
      const owner = async (d: string) => expectStatus(await s.call('GET', `/api/v1/domains/${d}`), 200).body.owner;
      assert.equal(await owner('shop.mig.example.com'), 'mig.shop');
      assert.equal(await owner('edge.mig.example.com'), 'mig.edge');
      assert.equal(await owner('split.mig.example.com'), null);
      assert.equal(await owner('idle.mig.example.com'), null);
      assert.equal(await owner('pay.example.com'), 'corp', 'the NCA of corp.pay.web and corp.find.frontend');
    });
  });
}
