/** The process API without agents: declarations, validation, permissions, and the tasks it keeps. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkNodes, startTestServer, testBackends, type TestServer } from '../testing/index.ts';

for (const backend of testBackends()) {
  describe(`processes API (${backend.name})`, () => {
    let s: TestServer;
    const spec = { argv: ['/usr/bin/env', 'python3', '-m', 'http.server', '8000'], ports: [{ port: 8000 }], health: { type: 'tcp', port: 8000 } };
    const list = async (path: string) => (await s.call('GET', `/api/v1/nodes/${path}/processes`)).body.items as { hostname: string; taskId: string; generation: number; state: string; task: string }[];

    before(async () => {
      s = await startTestServer(backend);
      await mkNodes(s, 'pa.web');
      await mkNodes(s, 'pa.api');
      for (const h of ['pa-1.example', 'pa-2.example']) {
        assert.equal((await s.call('POST', '/api/v1/machines', { hostname: h, ips: [h === 'pa-1.example' ? '10.9.0.1' : '10.9.0.2'] })).status, 201);
        assert.ok((await s.call('PUT', `/api/v1/nodes/pa.web/machines/${h}`)).status < 300);
      }
    });
    after(() => s.close());

    test('a bad declaration is a 400 naming the field, and nothing is stored', async () => {
      for (const [body, field] of [
        [{ argv: [] }, 'argv'],
        [{ ...spec, cwd: '../etc' }, 'cwd'],
        [{ ...spec, stopSignal: 'SIGKILL' }, 'stopSignal'],
        [{ ...spec, restart: { policy: 'sometimes' } }, 'restart.policy'],
        [{ ...spec, extra: 1 }, ''],
      ] as const) {
        const r = await s.call('PUT', '/api/v1/nodes/pa.web/process', body);
        assert.equal(r.status, 400, JSON.stringify(body));
        if (field) assert.ok(JSON.stringify(r.body).includes(field), JSON.stringify(r.body));
      }
      assert.equal((await s.call('GET', '/api/v1/nodes/pa.web/process')).status, 404);
      assert.equal((await s.call('GET', '/api/v1/nodes/pa.web/processes')).status, 404);
      assert.equal((await s.call('PUT', '/api/v1/nodes/pa.nowhere/process', spec)).status, 404);
    });

    test('declaring starts one process task per machine of the node; the same declaration again changes nothing', async () => {
      const r = await s.call('PUT', '/api/v1/nodes/pa.web/process', spec);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.deepEqual([r.body.desired, r.body.generation], ['running', 1]);
      await s.services.processes.orchestrator.idle();
      const rows = await list('pa.web');
      assert.deepEqual(rows.map((p) => [p.hostname, p.generation, p.state, p.task]), [['pa-1.example', 1, 'pending', 'NEW'], ['pa-2.example', 1, 'pending', 'NEW']]);
      const again = await s.call('PUT', '/api/v1/nodes/pa.web/process', spec);
      assert.deepEqual([again.status, again.body.generation], [200, 1]);
      const audit = await s.call('GET', '/api/v1/audit?under=pa.web');
      assert.ok(JSON.stringify(audit.body).includes('process.declare'));
    });

    test('restart is a new generation with new tasks; stop and start keep the declaration', async () => {
      const before = await list('pa.web');
      const r = await s.call('POST', '/api/v1/nodes/pa/processes/restart');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.items.map((d: { node: string; generation: number }) => [d.node, d.generation]), [['pa.web', 2]]);
      await s.services.processes.orchestrator.idle();
      const after = await list('pa.web');
      // No agent is connected: away machines do not hold the roll up, so both are replaced.
      assert.deepEqual(after.map((p) => p.generation), [2, 2]);
      assert.ok(after.every((p, i) => p.taskId !== before[i]!.taskId));
      const stop = await s.call('POST', '/api/v1/nodes/pa.web/processes/stop');
      assert.equal(stop.body.items[0].desired, 'stopped');
      const start = await s.call('POST', '/api/v1/nodes/pa.web/processes/start');
      assert.deepEqual([start.body.items[0].desired, start.body.items[0].generation], ['running', 3]);
      assert.equal((await s.call('POST', '/api/v1/nodes/pa.web/processes/reload')).status, 400);
      assert.equal((await s.call('POST', '/api/v1/nodes/pa.api/processes/stop')).status, 404, 'no process declared there');
    });

    test('logs of a host whose agent is not connected are a 409; of a host outside the node a 404', async () => {
      const r = await s.call('GET', '/api/v1/nodes/pa.web/processes/logs?host=pa-1.example');
      assert.equal(r.status, 409, JSON.stringify(r.body));
      assert.match(r.body.detail, /not connected/);
      assert.equal((await s.call('GET', '/api/v1/nodes/pa.web/processes/logs?host=nope.example')).status, 404);
      assert.equal((await s.call('GET', '/api/v1/nodes/pa.web/processes/logs?host=pa-1.example&lines=-1')).status, 400);
    });

    test('a viewer reads processes but may not change them; a root process needs machine.root', async () => {
      assert.equal((await s.call('POST', '/api/v1/users', { username: 'pa-viewer', password: 'password-123' })).status, 201);
      assert.equal((await s.call('POST', '/api/v1/grants', { user: 'pa-viewer', role: 'viewer', nodePath: 'pa.web' })).status, 201);
      assert.equal((await s.call('POST', '/api/v1/users', { username: 'pa-dev', password: 'password-123' })).status, 201);
      assert.equal((await s.call('POST', '/api/v1/grants', { user: 'pa-dev', role: 'developer', nodePath: 'pa.api' })).status, 201);
      const viewer = await s.login('pa-viewer', 'password-123');
      const dev = await s.login('pa-dev', 'password-123');
      assert.equal((await s.call('GET', '/api/v1/nodes/pa.web/processes', undefined, { token: viewer })).status, 200);
      assert.equal((await s.call('POST', '/api/v1/nodes/pa.web/processes/restart', undefined, { token: viewer })).status, 403);
      assert.equal((await s.call('PUT', '/api/v1/nodes/pa.web/process', spec, { token: viewer })).status, 403);
      assert.equal((await s.call('GET', '/api/v1/nodes/pa.web/processes', undefined, { token: dev })).status, 404, 'a node it cannot see');
      assert.equal((await s.call('PUT', '/api/v1/nodes/pa.api/process', spec, { token: dev })).status, 403, 'root (the default user) needs machine.root');
      const asUser = await s.call('PUT', '/api/v1/nodes/pa.api/process', { ...spec, user: 'www-data' }, { token: dev });
      assert.equal(asUser.status, 201, JSON.stringify(asUser.body));
    });

    test('deleting the declaration ends its tasks', async () => {
      assert.equal((await s.call('DELETE', '/api/v1/nodes/pa.api/process')).status, 204);
      assert.equal((await s.call('GET', '/api/v1/nodes/pa.api/process')).status, 404);
      assert.equal((await s.call('DELETE', '/api/v1/nodes/pa.api/process')).status, 404);
    });
  });
}
