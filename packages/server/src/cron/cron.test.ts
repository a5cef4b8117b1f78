/**
 * Cron over the API: inheritance with override and disable, where each entry comes from, the
 * per-machine `cron` document, runs pushed by an agent (kept once per id, forward only), bad input
 * refused with nothing changed, and who may change what.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkNodes, startTestServer, testBackends, type TestServer } from '../testing/index.ts';

const run = (over: Record<string, unknown> = {}) => ({
  id: randomUUID(), key: '1/x', name: 'rotate', node: 'cr', state: 'running', scheduledAt: '2026-12-03T10:00:00.000Z',
  startedAt: '2026-12-03T10:00:00.100Z', endedAt: null, exitCode: null, reason: null, stdout: '', stderr: '', truncated: 0, ...over,
});

for (const backend of testBackends()) {
  describe(`cron (${backend.name})`, () => {
    let s: TestServer;
    let machineId: number;
    before(async () => {
      s = await startTestServer(backend, { cron: { keepRuns: 5 } });
      await mkNodes(s, 'cr.web.a');
      await mkNodes(s, 'cr.api');
      const m = await s.call('POST', '/api/v1/machines', { hostname: 'cr-1.example', nodes: ['cr.web.a', 'cr.api'], status: 'online' });
      assert.equal(m.status, 201, JSON.stringify(m.body));
      machineId = m.body.id;
    });
    after(() => s.close());

    const table = async (path: string) => (await s.call('GET', `/api/v1/nodes/${path}/cron`)).body;
    const put = (path: string, name: string, body: unknown, token?: string) => s.call('PUT', `/api/v1/nodes/${path}/cron/${name}`, body, token ? { token } : {});
    // What the dispatcher calls for a `cron.runs` push from the machine's session.
    const pushAs = (runs: unknown[]) => s.services.cron.handleRuns({ machineId }, { runs });

    test('entries are inherited below their node, overridden by name, and disabled by a mask', async () => {
      assert.equal((await put('cr', 'rotate', { schedule: '0 * * * *', argv: ['/usr/sbin/logrotate', '/etc/logrotate.conf'] })).status, 200);
      assert.equal((await put('cr', 'backup', { schedule: '0 2 * * *', script: 'tar czf /tmp/b.tgz /etc\n', timezone: 'Europe/Paris' })).status, 200);
      const o = await put('cr.web', 'rotate', { schedule: '*/10 * * * *', argv: ['/usr/sbin/logrotate', '/etc/web.conf'], overlap: 'queue-one' });
      assert.equal(o.status, 200, JSON.stringify(o.body));
      assert.equal((await put('cr.web', 'backup', { disabled: true })).status, 200);

      const leaf = await table('cr.web.a');
      assert.deepEqual(leaf.entries.map((e: { name: string; from: string; own: boolean }) => [e.name, e.from, e.own]), [['rotate', 'cr.web', false]]);
      assert.deepEqual(leaf.disabled, [{ name: 'backup', disabledAt: 'cr.web', from: 'cr', own: false }]);
      const web = await table('cr.web');
      assert.equal(web.entries[0].overrides, 'cr');
      assert.equal(web.entries[0].nextRuns.length, 3);
      assert.ok(Date.parse(web.entries[0].nextRuns[0]) > Date.now() - 1000);
      const api = await table('cr.api');
      assert.deepEqual(api.entries.map((e: { name: string; from: string }) => [e.name, e.from]), [['backup', 'cr'], ['rotate', 'cr']]);
      assert.equal(api.entries[0].spec.timezone, 'Europe/Paris');
    });

    test("a machine's document is the union of its nodes' tables, each entry once", async () => {
      const doc = s.services.cron.docFor(machineId);
      assert.deepEqual(doc.entries.map((e) => `${e.node}/${e.name}`).sort(), ['cr.web/rotate', 'cr/backup', 'cr/rotate']);
      assert.ok(doc.entries.every((e) => e.spec.user === 'root' && e.spec.timeoutSeconds === 3600));
    });

    test('removing an override makes the inherited entry apply again; removing nothing is a 404', async () => {
      await put('cr.api', 'rotate', { schedule: '5 * * * *', argv: ['true'] });
      assert.equal((await table('cr.api')).entries.find((e: { name: string }) => e.name === 'rotate').from, 'cr.api');
      assert.equal((await s.call('DELETE', '/api/v1/nodes/cr.api/cron/rotate')).status, 204);
      assert.equal((await table('cr.api')).entries.find((e: { name: string }) => e.name === 'rotate').from, 'cr');
      assert.equal((await s.call('DELETE', '/api/v1/nodes/cr.api/cron/rotate')).status, 404);
      const audit = (await s.call('GET', '/api/v1/audit?operation=cron.delete&limit=10')).body.items;
      assert.equal(audit[0].target, 'cr.api/rotate');
    });

    test('bad input is a 400 naming the field, and nothing changes', async () => {
      const before = await table('cr');
      const cases: [string, unknown, RegExp][] = [
        ['rotate', { schedule: '61 * * * *', argv: ['x'] }, /schedule/],
        ['rotate', { schedule: '* * *', argv: ['x'] }, /5 fields/],
        ['rotate', { schedule: '* * * * *', argv: ['x'], timezone: 'Mars/Base' }, /time zone/],
        ['rotate', { schedule: '* * * * *', argv: ['x'], overlap: 'sometimes' }, /overlap/],
        ['rotate', { schedule: '* * * * *', argv: ['x'], script: 'y' }, /exactly one of argv and script/],
        ['rotate', { schedule: '* * * * *', argv: ['x'], user: 'Root!' }, /POSIX user/],
        ['rotate', { schedule: '* * * * *', argv: ['x'], timeoutSeconds: 0 }, /timeoutSeconds/],
        ['rotate', { schedule: '* * * * *', argv: ['x'], outputLimitBytes: 10 }, /outputLimitBytes/],
        ['Bad_Name', { schedule: '* * * * *', argv: ['x'] }, /DNS label/],
        ['nothing-here', { disabled: true }, /nothing to disable/],
      ];
      for (const [name, body, why] of cases) {
        const r = await put(name === 'nothing-here' ? 'cr.web' : 'cr', name, body);
        assert.equal(r.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
        assert.match(JSON.stringify(r.body), why);
      }
      assert.deepEqual(await table('cr'), before);
      assert.equal((await put('cr.nowhere', 'rotate', { schedule: '* * * * *', argv: ['x'] })).status, 404);
    });

    test('pushed runs are kept once per id, only move forward, and page newest first', async () => {
      const a = run();
      await pushAs([a]);
      await pushAs([{ ...a, state: 'succeeded', endedAt: '2026-12-03T10:00:01.100Z', exitCode: 0, stdout: 'rotated\nall done\n' }]);
      await pushAs([{ ...a, state: 'succeeded', endedAt: '2026-12-03T10:00:01.100Z', exitCode: 0, stdout: 'rotated\nall done\n' }]); // resent
      await pushAs([{ ...a, state: 'running' }]); // stale: a final state is final
      const b = run({ scheduledAt: '2026-12-03T10:10:00.000Z', state: 'skipped', startedAt: null, endedAt: '2026-12-03T10:10:00.000Z', reason: 'overlap: the previous run is still running' });
      await pushAs([b, run({ scheduledAt: '2026-12-03T10:20:00.000Z', stdout: 'nul \u0000 here' })]);

      const page = (await s.call('GET', '/api/v1/nodes/cr/cron/rotate/runs?limit=2')).body;
      assert.equal(page.items.length, 2);
      assert.deepEqual(page.items.map((r: { state: string }) => r.state), ['running', 'skipped']);
      assert.equal(page.items[1].reason, 'overlap: the previous run is still running');
      const rest = (await s.call('GET', `/api/v1/nodes/cr/cron/rotate/runs?limit=2&cursor=${page.nextCursor}`)).body;
      assert.deepEqual(rest.items.map((r: { id: string; state: string; exitCode: number; lastLine: string; durationMs: number }) => [r.id, r.state, r.exitCode, r.lastLine, r.durationMs]), [[a.id, 'succeeded', 0, 'all done', 1000]]);
      assert.equal(rest.nextCursor, null);
      const one = (await s.call('GET', `/api/v1/nodes/cr.api/cron/rotate/runs/${a.id}`)).body;
      assert.equal(one.stdout, 'rotated\nall done\n');
      assert.equal(one.hostname, 'cr-1.example');
      assert.equal((await s.call('GET', `/api/v1/nodes/cr/cron/backup/runs/${a.id}`)).status, 404, 'a run of another entry');
      assert.equal((await s.call('GET', '/api/v1/nodes/cr/cron/rotate/runs?hostname=other.example')).body.items.length, 0);
      assert.equal((await table('cr.api')).entries.find((e: { name: string }) => e.name === 'rotate').lastRun.state, 'running');
    });

    test('only the newest runs per machine and entry are kept', async () => {
      const times = [1, 2, 3, 4, 5, 6, 7].map((m) => `2026-12-03T11:0${m}:00.000Z`);
      await pushAs(times.slice(0, 4).map((t) => run({ name: 'often', scheduledAt: t, state: 'succeeded', exitCode: 0 })));
      await pushAs(times.slice(4).map((t) => run({ name: 'often', scheduledAt: t, state: 'succeeded', exitCode: 0 })));
      const kept = (await s.call('GET', '/api/v1/nodes/cr/cron/often/runs')).body.items.map((r: { scheduledAt: string }) => r.scheduledAt);
      assert.deepEqual(kept, times.slice(2).reverse());
    });

    test('a push that does not parse is refused as invalid, and keeps nothing', async () => {
      await assert.rejects(pushAs([{ ...run(), state: 'exploded' }]), /^Error: invalid cron runs: runs\.0\.state/);
      await assert.rejects(pushAs([]), /invalid cron runs/);
    });

    test('the routes are in the OpenAPI document', async () => {
      const doc = await s.call('GET', '/api/v1/openapi.json');
      assert.equal(doc.status, 200);
      for (const p of ['/api/v1/nodes/{path}/cron', '/api/v1/nodes/{path}/cron/{name}', '/api/v1/nodes/{path}/cron/{name}/runs', '/api/v1/nodes/{path}/cron/{name}/runs/{id}']) assert.ok(doc.body.paths[p], p);
      assert.ok(doc.body.paths['/api/v1/nodes/{path}/cron/{name}'].put.requestBody);
    });

    test('changing needs cron.write, and machine.root for an entry running as root', async () => {
      assert.equal((await s.call('POST', '/api/v1/roles', { name: 'cron-exec', operations: ['tree.read', 'cron.read', 'cron.write', 'machine.exec'] })).status, 201);
      for (const [user, role] of [['cr-viewer', 'viewer'], ['cr-exec', 'cron-exec']]) {
        assert.equal((await s.call('POST', '/api/v1/users', { username: user, password: 'password-123' })).status, 201);
        assert.equal((await s.call('POST', '/api/v1/grants', { user, role, nodePath: 'cr.web' })).status, 201);
      }
      const viewer = await s.login('cr-viewer', 'password-123');
      const exec = await s.login('cr-exec', 'password-123');
      assert.equal((await s.call('GET', '/api/v1/nodes/cr.web.a/cron', undefined, { token: viewer })).status, 200);
      assert.equal((await put('cr.web', 'mine', { schedule: '* * * * *', argv: ['true'], user: 'nobody' }, viewer)).status, 403);
      assert.equal((await put('cr.web', 'mine', { schedule: '* * * * *', argv: ['true'] }, exec)).status, 403, 'root needs machine.root');
      assert.equal((await put('cr.web', 'mine', { schedule: '* * * * *', argv: ['true'], user: 'nobody' }, exec)).status, 200);
      assert.equal((await put('cr.web.a', 'rotate', { disabled: true }, exec)).status, 200, 'disabling runs nothing');
      assert.equal((await s.call('GET', '/api/v1/nodes/cr.api/cron', undefined, { token: exec })).status, 404, 'a node it cannot see');
    });
  });
}
