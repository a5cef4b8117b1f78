import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { mkNodes, startTestServer, testBackends, type TestServer } from '../testing/index.ts';

for (const backend of testBackends()) {
  describe(`node init commands (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
      await mkNodes(s, 'ic.parent.child.leaf');
      await mkNodes(s, 'ic.other');
    });
    after(() => s.close());

    const get = async (path: string) => (await s.call('GET', `/api/v1/nodes/${path}/init-command`)).body;
    const audit = async (op: string) => (await s.call('GET', `/api/v1/audit?operation=${op}&limit=100`)).body.items as { target: string; before: unknown; after: unknown; actor?: string }[];

    test('with none set anywhere above, init runs `puppet agent --test` (exit 0 and 2 succeed)', async () => {
      assert.deepEqual(await get('ic.other'), {
        node: 'ic.other', own: null, effective: { argv: ['puppet', 'agent', '--test'], okExitCodes: [0, 2] }, from: null, updatedBy: null, updatedAt: null,
      });
    });

    test('a command set on a node is inherited below it; the nearest one wins; removing it inherits again', async () => {
      const put = await s.call('PUT', '/api/v1/nodes/ic.parent/init-command', { script: 'echo parent\n' });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.deepEqual(put.body.own, { script: 'echo parent\n', okExitCodes: [0] });
      assert.equal(put.body.from, 'ic.parent');
      assert.equal(put.body.updatedBy, 'admin');
      const leaf = await get('ic.parent.child.leaf');
      assert.deepEqual([leaf.own, leaf.effective.script, leaf.from], [null, 'echo parent\n', 'ic.parent']);

      assert.equal((await s.call('PUT', '/api/v1/nodes/ic.parent.child/init-command', { argv: ['/usr/local/sbin/init', '--role=child'], okExitCodes: [0, 3] })).status, 200);
      const nearer = await get('ic.parent.child.leaf');
      assert.deepEqual([nearer.effective, nearer.from], [{ argv: ['/usr/local/sbin/init', '--role=child'], okExitCodes: [0, 3] }, 'ic.parent.child']);
      assert.equal((await get('ic.parent')).effective.script, 'echo parent\n', 'an ancestor is not changed by its child');

      assert.equal((await s.call('DELETE', '/api/v1/nodes/ic.parent.child/init-command')).status, 204);
      assert.equal((await get('ic.parent.child.leaf')).from, 'ic.parent');
      const again = await s.call('DELETE', '/api/v1/nodes/ic.parent.child/init-command');
      assert.equal(again.status, 404);
    });

    test('each set and removal is audited with what it replaced', async () => {
      await s.call('PUT', '/api/v1/nodes/ic.other/init-command', { argv: ['/bin/true'] });
      await s.call('PUT', '/api/v1/nodes/ic.other/init-command', { argv: ['/bin/false'], okExitCodes: [1] });
      await s.call('DELETE', '/api/v1/nodes/ic.other/init-command');
      const sets = (await audit('node.init_command.set')).filter((e) => e.target === 'ic.other');
      assert.deepEqual(sets.map((e) => [e.before, e.after]).reverse(), [
        [null, { argv: ['/bin/true'], okExitCodes: [0] }],
        [{ argv: ['/bin/true'], okExitCodes: [0] }, { argv: ['/bin/false'], okExitCodes: [1] }],
      ]);
      const dels = (await audit('node.init_command.delete')).filter((e) => e.target === 'ic.other');
      assert.deepEqual(dels.map((e) => e.before), [{ argv: ['/bin/false'], okExitCodes: [1] }]);
    });

    test('a bad command is a 400 naming the problem, and nothing changes', async () => {
      await s.call('PUT', '/api/v1/nodes/ic.parent/init-command', { script: 'echo parent\n' });
      const before = await get('ic.parent');
      const writes = (await audit('node.init_command.set')).length;
      const cases: [unknown, RegExp][] = [
        [{ argv: [] }, /too_small|at least|>=1/i],
        [{ argv: ['/bin/echo', 'a\u0000b'] }, /NUL/],
        [{ script: 'echo \u0000' }, /NUL/],
        [{}, /exactly one of argv and script/],
        [{ argv: ['/bin/true'], script: 'true' }, /exactly one of argv and script/],
        [{ script: 'x'.repeat(300 * 1024) }, /at most/],
        [{ argv: ['/bin/true'], okExitCodes: [256] }, /255|too_big/i],
        [{ argv: ['/bin/true'], user: 'nobody' }, /unrecognized|user/i],
      ];
      for (const [body, why] of cases) {
        const r = await s.call('PUT', '/api/v1/nodes/ic.parent/init-command', body);
        assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${JSON.stringify(r.body)}`);
        assert.match(JSON.stringify(r.body), why);
      }
      assert.deepEqual(await get('ic.parent'), before);
      assert.equal((await audit('node.init_command.set')).length, writes);
      assert.equal((await s.call('PUT', '/api/v1/nodes/ic.nowhere/init-command', { argv: ['/bin/true'] })).status, 404);
    });

    test("an init job gives each machine its node's command: the most specific binding inside the job's subtree wins", async () => {
      await mkNodes(s, 'ij.a.deep');
      await mkNodes(s, 'ij.b');
      await mkNodes(s, 'elsewhere.x');
      await s.call('PUT', '/api/v1/nodes/ij.a/init-command', { argv: ['/bin/echo', 'a'] });
      await s.call('PUT', '/api/v1/nodes/ij.a.deep/init-command', { argv: ['/bin/echo', 'deep'] });
      await s.call('PUT', '/api/v1/nodes/elsewhere.x/init-command', { argv: ['/bin/echo', 'elsewhere'] });
      for (const [hostname, nodes] of [['ij-1.example', ['ij.b', 'ij.a.deep']], ['ij-2.example', ['ij.b']], ['ij-3.example', ['ij.a', 'elsewhere.x']]] as const) {
        assert.equal((await s.call('POST', '/api/v1/machines', { hostname, nodes, status: 'online' })).status, 201);
      }
      const argvOf = async (jobId: number) => {
        const { rows } = (await s.database.db.execute(sql`SELECT h.hostname, t.spec FROM job_hosts h JOIN tasks t ON t.id = h.task_id WHERE h.job_id = ${jobId} ORDER BY h.hostname`)) as unknown as { rows: { hostname: string; spec: { argv: string[]; user: string } }[] };
        return Object.fromEntries(rows.map((r) => [r.hostname, [r.spec.argv.join(' '), r.spec.user]]));
      };
      const under = await s.call('POST', '/api/v1/jobs', { kind: 'init', target: { under: 'ij' }, timeoutSeconds: 60 });
      assert.equal(under.status, 201, JSON.stringify(under.body));
      assert.deepEqual(await argvOf(under.body.id), {
        'ij-1.example': ['/bin/echo deep', 'root'],
        'ij-2.example': ['puppet agent --test', 'root'],
        'ij-3.example': ['/bin/echo a', 'root'],
      });
      // Without a subtree every binding counts: ij-3's are as deep as each other, so the first by path wins.
      const hosts = await s.call('POST', '/api/v1/jobs', { kind: 'init', target: { hosts: ['ij-3.example'] } });
      assert.equal(hosts.status, 201, JSON.stringify(hosts.body));
      assert.deepEqual(await argvOf(hosts.body.id), { 'ij-3.example': ['/bin/echo elsewhere', 'root'] });
    });

    test('setting it needs machine.root on the node: a viewer may read it, not change it', async () => {
      assert.equal((await s.call('POST', '/api/v1/users', { username: 'ic-viewer', password: 'password-123' })).status, 201);
      assert.equal((await s.call('POST', '/api/v1/grants', { user: 'ic-viewer', role: 'viewer', nodePath: 'ic.parent' })).status, 201);
      const token = await s.login('ic-viewer', 'password-123');
      assert.equal((await s.call('GET', '/api/v1/nodes/ic.parent.child/init-command', undefined, { token })).status, 200);
      const put = await s.call('PUT', '/api/v1/nodes/ic.parent.child/init-command', { argv: ['/bin/true'] }, { token });
      assert.equal(put.status, 403);
      assert.equal((await s.call('DELETE', '/api/v1/nodes/ic.parent/init-command', undefined, { token })).status, 403);
      assert.equal((await s.call('GET', '/api/v1/nodes/ic.other/init-command', undefined, { token })).status, 404, 'a node it cannot see');
      assert.equal((await get('ic.parent.child')).from, 'ic.parent');
    });
  });
}
