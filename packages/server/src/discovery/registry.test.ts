import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { hosts, mkInstance, mkMachine, mkNodes, mkService, userWith } from './fixtures.test-util.ts';

for (const backend of testBackends()) {
  describe(`discovery registry (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    test('registers a service and an instance, answers from memory with the policy and an index', async () => {
      const svc = await mkService(s, 'reg.web', { lb: { algorithm: 'consistent_hash', hashKey: '$request_uri' } });
      assert.equal(svc.path, 'reg.web');
      assert.deepEqual(svc.lb, { algorithm: 'consistent_hash', hashKey: '$request_uri' });
      const inst = await mkInstance(s, 'reg.web', 'reg-a.example', '10.1.0.1', { meta: { version: '1.2.3' } }, 'z1');
      assert.deepEqual(
        { ip: inst.ip, port: inst.port, portName: inst.portName, weight: inst.weight, zone: inst.zone, status: inst.status, health: inst.health, bound: inst.bound },
        { ip: '10.1.0.1', port: 8080, portName: 'http', weight: 1, zone: 'z1', status: 'up', health: 'passing', bound: true },
      );
      const res = await s.call('GET', '/api/v1/services/reg.web/instances');
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-canopy-index'], String(res.body.index));
      assert.deepEqual(res.body.policy, { algorithm: 'consistent_hash', hashKey: '$request_uri' });
      assert.deepEqual(hosts(res.body), ['reg-a.example']);
      assert.deepEqual(res.body.instances[0].meta, { version: '1.2.3' });
      const audit = await s.call('GET', '/api/v1/audit?under=reg');
      const ops = audit.body.items.map((e: { operation: string }) => e.operation);
      assert.ok(ops.includes('discovery.service.create') && ops.includes('discovery.instance.register'), ops.join());
    });

    test('an update keeps what it does not name; deregistration removes the instance', async () => {
      await mkService(s, 'upd.web');
      await mkInstance(s, 'upd.web', 'upd-a.example', '10.2.0.1', { weight: 5, meta: { a: 'b' } });
      const drained = await s.call('PUT', '/api/v1/services/upd.web/instances/upd-a.example/8080', { status: 'draining' });
      assert.equal(drained.status, 200);
      assert.deepEqual([drained.body.weight, drained.body.status, drained.body.meta], [5, 'draining', { a: 'b' }]);
      assert.equal((await s.call('DELETE', '/api/v1/services/upd.web/instances/upd-a.example/8080')).status, 204);
      assert.deepEqual((await s.call('GET', '/api/v1/services/upd.web/instances')).body.instances, []);
      assert.equal((await s.call('DELETE', '/api/v1/services/upd.web/instances/upd-a.example/8080')).status, 404);
    });

    test('refuses an instance whose machine is not bound to the service node, leaving nothing behind', async () => {
      await mkService(s, 'sec.api');
      await mkNodes(s, 'sec.other');
      await mkMachine(s, 'sec-stray.example', '10.3.0.9', ['sec.other']);
      const r = await s.call('PUT', '/api/v1/services/sec.api/instances/sec-stray.example/8080', {});
      assert.equal(r.status, 409);
      assert.match(r.body.detail, /not bound to 'sec\.api'/);
      assert.equal((await s.call('GET', '/api/v1/services/sec.api')).body.instanceCount, 0);
      const unknown = await s.call('PUT', '/api/v1/services/sec.api/instances/no-such.example/8080', {});
      assert.equal(unknown.status, 404);
    });

    test('secure registration: a viewer is refused with 403, an outsider sees 404, ops may register', async () => {
      await mkService(s, 'perm.svc');
      await mkMachine(s, 'perm-a.example', '10.4.0.1', ['perm.svc']);
      const viewer = await userWith(s, 'disc-viewer', 'viewer', 'perm');
      const outsider = await userWith(s, 'disc-outsider', null, 'perm');
      const ops = await userWith(s, 'disc-ops', 'ops', 'perm');
      const url = '/api/v1/services/perm.svc/instances/perm-a.example/8080';
      assert.equal((await s.call('PUT', url, {}, { token: viewer })).status, 403);
      assert.equal((await s.call('PUT', url, {}, { token: outsider })).status, 404);
      assert.equal((await s.call('GET', '/api/v1/services/perm.svc/instances', undefined, { token: outsider })).status, 404);
      assert.equal((await s.call('PUT', '/api/v1/services/perm.svc', { ports: [{ name: 'http', port: 1 }] }, { token: viewer })).status, 403);
      assert.equal((await s.call('GET', '/api/v1/services/perm.svc/instances', undefined, { token: viewer })).body.instances.length, 0);
      assert.equal((await s.call('PUT', url, {}, { token: ops })).status, 201);
      assert.equal((await s.call('PUT', `${url}/heartbeat`, undefined, { token: viewer })).status, 403);
      assert.equal((await s.call('GET', '/api/v1/services/perm.svc/instances', undefined, { token: viewer })).body.instances.length, 1);
    });

    test('rejects invalid input with 400 and leaves the database unchanged', async () => {
      await mkService(s, 'bad.svc', { ports: [{ name: 'http', port: 80 }, { name: 'grpc', port: 9090 }] });
      await mkMachine(s, 'bad-a.example', '10.5.0.1', ['bad.svc']);
      const before = await s.call('GET', '/api/v1/services/bad.svc');
      for (const body of [
        { ports: [] },
        { ports: [{ name: 'http', port: 0 }] },
        { ports: [{ name: 'Http', port: 80 }] },
        { ports: [{ name: 'a', port: 1 }, { name: 'a', port: 2 }] },
        { ports: [{ name: 'http', port: 80 }], lb: { algorithm: 'fastest' } },
        { ports: [{ name: 'http', port: 80 }], lb: { algorithm: 'wrr', hashKey: '$uri' } },
        { ports: [{ name: 'http', port: 80 }], lb: { algorithm: 'consistent_hash', hashKey: 'a b;' } },
        { ports: [{ name: 'http', port: 80 }], protectThreshold: 1.5 },
        { ports: [{ name: 'http', port: 80 }], bogus: 1 },
      ]) {
        const r = await s.call('PUT', '/api/v1/services/bad.svc', body);
        assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status}`);
      }
      const url = '/api/v1/services/bad.svc/instances/bad-a.example';
      for (const [port, body] of [
        ['8080', {}],
        ['80', { weight: 0 }],
        ['80', { weight: 1001 }],
        ['80', { status: 'paused' }],
        ['80', { ip: '10.9.9.9' }],
        ['80', { portName: 'nope' }],
        ['80', { ttlSeconds: 0 }],
        ['0', {}],
        ['80', { meta: { 'bad key': 'x' } }],
      ] as const) {
        const r = await s.call('PUT', `${url}/${port}`, body);
        assert.equal(r.status, 400, `${port} ${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.body)}`);
      }
      const after = await s.call('GET', '/api/v1/services/bad.svc');
      assert.deepEqual(after.body, before.body);
      const grpc = await s.call('PUT', `${url}/9090`, {});
      assert.equal(grpc.body.portName, 'grpc', 'the port number picks the declared name');
    });

    test('lists services under a subtree and refuses to drop a port still in use', async () => {
      await mkService(s, 'lst.a');
      await mkService(s, 'lst.b');
      await mkInstance(s, 'lst.b', 'lst-b1.example', '10.6.0.1');
      const list = await s.call('GET', '/api/v1/services?under=lst');
      assert.deepEqual(list.body.items.map((x: { path: string }) => x.path), ['lst.a', 'lst.b']);
      const drop = await s.call('PUT', '/api/v1/services/lst.b', { ports: [{ name: 'admin', port: 9000 }] });
      assert.equal(drop.status, 409);
      assert.equal((await s.call('DELETE', '/api/v1/services/lst.b')).status, 409, 'instances still registered');
      assert.equal((await s.call('DELETE', '/api/v1/services/lst.b?force=true')).status, 204);
      assert.equal((await s.call('GET', '/api/v1/services/lst.b/instances')).status, 404);
    });
  });
}
