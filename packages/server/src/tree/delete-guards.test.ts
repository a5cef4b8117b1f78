/**
 * Deleting a tree node refuses for the reasons deleting its service does, and for what nginx and
 * LVS keep there, for the node and every node beneath it: 409 naming each reason, nothing changed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkNodes, startTestServer, testBackends, type Reply, type TestServer } from '../testing/index.ts';

for (const backend of testBackends()) {
  describe(`node delete guards (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    const ok = (r: Reply, ...codes: number[]) => {
      assert.ok(codes.includes(r.status), `expected ${codes.join('|')}, got ${r.status}: ${JSON.stringify(r.body)}`);
      return r;
    };
    const service = async (path: string) => {
      await mkNodes(s, path);
      ok(await s.call('PUT', `/api/v1/services/${path}`, { ports: [{ name: 'http', port: 8080 }] }), 201);
    };
    /** The delete is refused with a problem document listing reasons, and the node is still there. */
    async function refused(path: string, ...reasons: RegExp[]): Promise<string[]> {
      const r = await s.call('DELETE', `/api/v1/nodes/${path}`);
      assert.equal(r.status, 409, JSON.stringify(r.body));
      assert.equal(r.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.equal(r.body.code, 'conflict');
      const listed = r.body.reasons as string[];
      for (const re of reasons) {
        assert.ok(listed.some((x) => re.test(x)), `no reason like ${re} in ${JSON.stringify(listed)}`);
        assert.match(r.body.detail, re);
      }
      ok(await s.call('GET', `/api/v1/nodes/${path}`), 200);
      return listed;
    }

    test('the issue\'s sequence: an alias names lab.svc, so both the service delete and the node delete refuse', async () => {
      await service('lab.svc');
      ok(await s.call('PUT', '/api/v1/aliases/lab.svc-old', { target: 'lab.svc' }), 201);
      assert.equal((await s.call('DELETE', '/api/v1/services/lab.svc')).status, 409);
      await refused('lab.svc', /aliases still name 'lab\.svc': lab\.svc-old/);
      const alias = ok(await s.call('GET', '/api/v1/aliases/lab.svc-old'), 200).body;
      assert.deepEqual([alias.target, alias.resolvesTo], ['lab.svc', 'lab.svc'], 'the alias still resolves: nothing changed');
      ok(await s.call('GET', '/api/v1/services/lab.svc'), 200);
      assert.ok(!(ok(await s.call('GET', '/api/v1/trash'), 200).body.items as { path: string }[]).some((t) => t.path === 'lab.svc'), 'not in the trash');

      ok(await s.call('DELETE', '/api/v1/aliases/lab.svc-old'), 204);
      ok(await s.call('DELETE', '/api/v1/nodes/lab.svc'), 204);
    });

    test('nginx settings routing to the node, and an nginx cluster on it, refuse its delete', async () => {
      await service('ngd.svc');
      await mkNodes(s, 'ngd.edge');
      ok(await s.call('PUT', '/api/v1/domains/ngd.example.com', { ports: [{ port: 8080 }] }), 201);
      ok(await s.call('PUT', '/api/v1/nodes/ngd.svc/nginx', { domainUris: [{ domain: 'ngd.example.com', uri: '/api/' }], port: 8080 }), 201);
      ok(await s.call('PUT', '/api/v1/nginx/clusters/ngd.edge', { domains: ['ngd.example.com'] }), 201);
      await refused('ngd.svc', /nginx routes ngd\.example\.com\/api\/ to 'ngd\.svc'; delete its nginx settings first/);
      await refused('ngd.edge', /'ngd\.edge' is an nginx cluster serving ngd\.example\.com/);
      ok(await s.call('GET', '/api/v1/nodes/ngd.svc/nginx'), 200);

      ok(await s.call('DELETE', '/api/v1/nodes/ngd.svc/nginx'), 204);
      ok(await s.call('DELETE', '/api/v1/nodes/ngd.svc'), 204);
    });

    test('LVS settings, the director cluster balancing them, and the cluster node itself refuse their deletes', async () => {
      await service('lvd.svc');
      await mkNodes(s, 'lvd.lb');
      ok(await s.call('PUT', '/api/v1/nodes/lvd.svc/lvs', { virtualServices: [{ vip: '10.20.61.1', port: 80 }] }), 201);
      ok(await s.call('PUT', '/api/v1/lvs/clusters/lvd.lb', { services: ['lvd.svc'] }), 201);
      await refused('lvd.svc', /'lvd\.svc' has LVS virtual services TCP 10\.20\.61\.1:80; delete its LVS settings first/, /LVS cluster\(s\) lvd\.lb still balance 'lvd\.svc'/);
      await refused('lvd.lb', /'lvd\.lb' is an LVS director cluster balancing 1 service/);
      ok(await s.call('GET', '/api/v1/nodes/lvd.svc/lvs'), 200);
    });

    test('a service others declare they depend on: the service delete and the node delete both refuse', async () => {
      await service('dpd.callee');
      await service('dpd.caller');
      ok(await s.call('PUT', '/api/v1/services/dpd.caller/dependencies', { services: ['dpd.callee'] }), 200);
      const svc = await s.call('DELETE', '/api/v1/services/dpd.callee');
      assert.equal(svc.status, 409);
      assert.deepEqual(svc.body.dependents, ['dpd.caller']);
      await refused('dpd.callee', /services declare they depend on 'dpd\.callee': dpd\.caller/);
      ok(await s.call('PUT', '/api/v1/services/dpd.caller/dependencies', { services: [] }), 200);
      ok(await s.call('DELETE', '/api/v1/nodes/dpd.callee'), 204);
    });

    test('every reason of the node and of the nodes beneath it comes in one answer', async () => {
      await service('sbd.top.svc');
      ok(await s.call('PUT', '/api/v1/aliases/sbd.top.svc-alias', { target: 'sbd.top.svc' }), 201);
      ok(await s.call('PUT', '/api/v1/domains/sbd.example.com', { ports: [{ port: 8080 }] }), 201);
      ok(await s.call('PUT', '/api/v1/nodes/sbd.top.svc/nginx', { domainUris: [{ domain: 'sbd.example.com', uri: '/' }], port: 8080 }), 201);
      const reasons = await refused('sbd.top', /still has 1 child node/, /aliases still name 'sbd\.top\.svc'/, /nginx routes sbd\.example\.com\/ to 'sbd\.top\.svc'/);
      assert.equal(reasons.length, 3, JSON.stringify(reasons));
      assert.equal((await refused('sbd.top.svc', /aliases still name/, /nginx routes/)).length, 2);
    });

    test('a service with nothing depending on it does not hold its node back', async () => {
      await service('frd.svc');
      ok(await s.call('DELETE', '/api/v1/nodes/frd.svc'), 204);
      assert.equal((await s.call('GET', '/api/v1/nodes/frd.svc')).status, 404);
    });
  });
}
