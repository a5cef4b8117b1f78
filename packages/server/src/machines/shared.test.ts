/**
 * A machine several subtrees share belongs to all of them: rights on one node do not let a user
 * change, re-address, retire or re-bind it, but do let them withdraw it from their own node.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { rows } from '../db/connection.ts';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';

for (const backend of testBackends()) {
  describe(`machines shared by several nodes (${backend.name})`, () => {
    let s: TestServer;
    let payOps: string;
    before(async () => {
      s = await startTestServer(backend);
      for (const [parentPath, name] of [[null, 'corp'], ['corp', 'pay'], ['corp', 'search'], ['corp.pay', 'api'], [null, 'two'], ['two', 'a'], ['two', 'b']] as const) {
        assert.equal((await s.call('POST', '/api/v1/nodes', { parentPath, name })).status, 201);
      }
      payOps = await userWith('pay-ops', 'ops', 'corp.pay');
    });
    after(() => s.close());

    async function userWith(username: string, role: string, nodePath: string): Promise<string> {
      assert.equal((await s.call('POST', '/api/v1/users', { username, password: `pw-of-${username}` })).status, 201);
      assert.equal((await s.call('POST', '/api/v1/grants', { user: username, role, nodePath })).status, 201);
      return s.login(username, `pw-of-${username}`);
    }
    async function machine(hostname: string, nodes: string[]): Promise<void> {
      const r = await s.call('POST', '/api/v1/machines', { hostname, ips: ['10.5.0.1'], os: 'kept', status: 'online', nodes });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    const get = async (hostname: string) => (await s.call('GET', `/api/v1/machines/${hostname}`)).body;
    /** Machines, bindings, audit entries and the change feed's head: a refusal must leave all of them as they were. */
    const state = async () =>
      (await rows<{ v: string }>(s.database.db, sql`SELECT concat_ws('/', (SELECT md5(coalesce(string_agg(m::text, '|' ORDER BY m.id), '')) FROM machines m),
        (SELECT count(*) FROM machine_nodes), (SELECT count(*) FROM audit_log), (SELECT coalesce(max(revision), 0) FROM changes)) AS v`))[0]?.v;
    function refusedFor(r: { status: number; body: any; headers: Record<string, unknown> }, node: string): void {
      assert.equal(r.status, 403, JSON.stringify(r.body));
      assert.ok(String(r.headers['content-type']).startsWith('application/problem+json'));
      assert.equal(r.body.code, 'forbidden');
      assert.equal(r.body.target, node, 'the problem names the node lacking rights');
      assert.match(r.body.detail, new RegExp(`machine\\.write on ${node.replaceAll('.', '\\.')}`));
    }

    test('rights on one node of a shared machine do not retire, change or re-bind it: 403 naming the other node, and nothing changes', async () => {
      await machine('both.corp.example', ['corp.pay', 'corp.search']);
      const before = await state();
      refusedFor(await s.call('POST', '/api/v1/machines/both.corp.example/retire', undefined, { token: payOps }), 'corp.search');
      refusedFor(await s.call('PATCH', '/api/v1/machines/both.corp.example', { ips: ['10.5.0.99'] }, { token: payOps }), 'corp.search');
      refusedFor(await s.call('PUT', '/api/v1/nodes/corp.pay.api/machines/both.corp.example', undefined, { token: payOps }), 'corp.search');
      assert.equal(await state(), before);
      const m = await get('both.corp.example');
      assert.deepEqual([m.status, m.ips, m.os, m.nodes], ['online', ['10.5.0.1'], 'kept', ['corp.pay', 'corp.search']]);
      const seen = await s.call('GET', '/api/v1/machines/both.corp.example', undefined, { token: payOps });
      assert.equal(seen.status, 200, 'pay still sees the machine it runs on');
    });

    test('a user may withdraw a shared machine from a node they write, and only from that node', async () => {
      await machine('leave.corp.example', ['corp.pay', 'corp.search']);
      const before = await state();
      const other = await s.call('DELETE', '/api/v1/nodes/corp.search/machines/leave.corp.example', undefined, { token: payOps });
      assert.equal(other.status, 404, 'corp.search is not visible to pay ops');
      assert.equal(await state(), before);
      assert.equal((await s.call('DELETE', '/api/v1/nodes/corp.pay/machines/leave.corp.example', undefined, { token: payOps })).status, 204);
      const m = await get('leave.corp.example');
      assert.deepEqual([m.status, m.nodes], ['online', ['corp.search']]);
      assert.equal((await s.call('GET', '/api/v1/machines/leave.corp.example', undefined, { token: payOps })).status, 404, 'gone from pay, so no longer visible to it');
    });

    test('with machine.write on every node of the machine, a user changes, binds and retires it', async () => {
      const twoOps = await userWith('two-ops', 'ops', 'two');
      await machine('ab.two.example', ['two.a', 'two.b']);
      await machine('ab2.two.example', ['two.a', 'corp.pay']);
      assert.equal((await s.call('PATCH', '/api/v1/machines/ab.two.example', { ips: ['10.5.1.1'] }, { token: twoOps })).status, 200);
      assert.equal((await s.call('PUT', '/api/v1/nodes/two/machines/ab.two.example', undefined, { token: twoOps })).status, 201);
      const retired = await s.call('POST', '/api/v1/machines/ab.two.example/retire', undefined, { token: twoOps });
      assert.equal(retired.status, 200, JSON.stringify(retired.body));
      assert.deepEqual([retired.body.status, retired.body.ips, retired.body.nodes], ['retired', ['10.5.1.1'], []]);
      refusedFor(await s.call('POST', '/api/v1/machines/ab2.two.example/retire', undefined, { token: payOps }), 'two.a');
      // Once granted on the other node too, the same user retires it.
      assert.equal((await s.call('POST', '/api/v1/grants', { user: 'pay-ops', role: 'ops', nodePath: 'two.a' })).status, 201);
      assert.equal((await s.call('POST', '/api/v1/machines/ab2.two.example/retire', undefined, { token: payOps })).status, 200);
    });

    test('a superuser may retire a machine shared by any nodes', async () => {
      await machine('su.corp.example', ['corp.pay', 'corp.search', 'two.b']);
      const r = await s.call('POST', '/api/v1/machines/su.corp.example/retire');
      assert.deepEqual([r.status, r.body.nodes], [200, []]);
    });
  });
}
