/** Machines end to end: create, change, retire, bind, list a subtree, counts, and who may do which. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createNodes, startTestServer, testBackends, type TestServer } from '../testing/index.ts';

for (const backend of testBackends()) {
  describe(`machines (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    const nodes = (...paths: string[]) => createNodes(s, ...paths);
    async function machine(hostname: string, extra: object = {}, token?: string) {
      const r = await s.call('POST', '/api/v1/machines', { hostname, ...extra }, token ? { token } : {});
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r;
    }
    async function userWith(username: string, role: string, nodePath: string): Promise<string> {
      assert.equal((await s.call('POST', '/api/v1/users', { username, password: `pw-of-${username}` })).status, 201);
      assert.equal((await s.call('POST', '/api/v1/grants', { user: username, role, nodePath })).status, 201);
      return s.login(username, `pw-of-${username}`);
    }
    const counts = async (path: string) => {
      const n = (await s.call('GET', `/api/v1/nodes/${path}`)).body;
      return [n.machineCount, n.subtreeMachineCount];
    };

    test('creates a machine with its fields and reads it back with an ETag', async () => {
      await nodes('mc', 'mc.web');
      const made = await machine('web1.mc.example', { ips: ['10.0.0.1', 'fd00::1'], serial: 'SN-1', idc: 'dc1', zone: 'z1', kind: 'physical', cpuCores: 16, memoryMb: 65536, diskGb: 500, os: 'debian 12', status: 'online', labels: { rack: 'r1' }, facts: { kernel: '6.1' }, nodes: ['mc.web'] });
      assert.match(String(made.headers.etag), /^"m\d+v1"$/);
      const got = await s.call('GET', '/api/v1/machines/web1.mc.example');
      assert.equal(got.status, 200);
      assert.deepEqual(got.body.ips, ['10.0.0.1', 'fd00::1']);
      assert.deepEqual(got.body.nodes, ['mc.web']);
      assert.deepEqual(got.body.facts, { kernel: '6.1' });
      assert.equal(got.body.kind, 'physical');
      assert.equal(got.headers.etag, made.headers.etag);
    });

    test('a duplicate hostname answers 409 and changes nothing', async () => {
      await machine('dup.mc.example', { os: 'first' });
      const again = await s.call('POST', '/api/v1/machines', { hostname: 'dup.mc.example', os: 'second' });
      assert.equal(again.status, 409);
      assert.equal(again.body.code, 'conflict');
      assert.equal((await s.call('GET', '/api/v1/machines/dup.mc.example')).body.os, 'first');
    });

    test('update needs a current ETag when If-Match is sent: a stale one answers 412', async () => {
      const made = await machine('etag.mc.example', { os: 'v1' });
      const etag = String(made.headers.etag);
      const first = await s.call('PATCH', '/api/v1/machines/etag.mc.example', { os: 'v2' }, { headers: { 'if-match': etag } });
      assert.equal(first.status, 200);
      assert.notEqual(first.headers.etag, etag);
      const stale = await s.call('PATCH', '/api/v1/machines/etag.mc.example', { os: 'v3' }, { headers: { 'if-match': etag } });
      assert.equal(stale.status, 412);
      assert.equal(stale.body.code, 'precondition_failed');
      assert.equal((await s.call('GET', '/api/v1/machines/etag.mc.example')).body.os, 'v2');
      assert.equal((await s.call('PATCH', '/api/v1/machines/etag.mc.example', {})).status, 400, 'an empty change is refused');
      assert.equal((await s.call('PATCH', '/api/v1/machines/no-such.mc.example', { os: 'x' })).status, 404);
    });

    test('a machine sits in several nodes; bind and unbind keep the per-node counts', async () => {
      await nodes('bd', 'bd.a', 'bd.b');
      await machine('multi.bd.example', { nodes: ['bd.a'] });
      const bound = await s.call('PUT', '/api/v1/nodes/bd.b/machines/multi.bd.example');
      assert.equal(bound.status, 201);
      assert.deepEqual(bound.body.nodes, ['bd.a', 'bd.b']);
      assert.equal((await s.call('PUT', '/api/v1/nodes/bd.b/machines/multi.bd.example')).status, 200, 'binding twice is idempotent');
      assert.deepEqual(await counts('bd.a'), [1, 1]);
      assert.deepEqual(await counts('bd.b'), [1, 1]);
      assert.equal((await s.call('DELETE', '/api/v1/nodes/bd.a/machines/multi.bd.example')).status, 204);
      assert.equal((await s.call('DELETE', '/api/v1/nodes/bd.a/machines/multi.bd.example')).status, 404, 'no such binding');
      assert.deepEqual((await s.call('GET', '/api/v1/machines/multi.bd.example')).body.nodes, ['bd.b']);
      assert.deepEqual(await counts('bd.a'), [0, 0]);
      assert.equal((await s.call('PUT', '/api/v1/nodes/bd.nope/machines/multi.bd.example')).status, 404);
      assert.equal((await s.call('PUT', '/api/v1/nodes/bd.a/machines/nope.bd.example')).status, 404);
    });

    test('naming a node twice at creation binds it once', async () => {
      await nodes('twice');
      const made = await machine('twice.mc.example', { nodes: ['twice', 'twice'] });
      assert.deepEqual(made.body.nodes, ['twice']);
      assert.deepEqual(await counts('twice'), [1, 1]);
    });

    test('retire marks the machine retired and unbinds it everywhere; a retired machine cannot be bound', async () => {
      await nodes('rt', 'rt.a', 'rt.b');
      await machine('old.rt.example', { status: 'online', nodes: ['rt.a', 'rt.b'] });
      const retired = await s.call('POST', '/api/v1/machines/old.rt.example/retire');
      assert.equal(retired.status, 200);
      assert.equal(retired.body.status, 'retired');
      assert.deepEqual(retired.body.nodes, []);
      assert.deepEqual(await counts('rt'), [0, 0]);
      const list = await s.call('GET', '/api/v1/machines?under=rt');
      assert.equal(list.body.total, 0);
      assert.equal((await s.call('PUT', '/api/v1/nodes/rt.a/machines/old.rt.example')).status, 409);

      // Retiring by PATCH is the same act: the machine leaves every node.
      await machine('patched.rt.example', { status: 'online', nodes: ['rt.a', 'rt.b'] });
      const patched = await s.call('PATCH', '/api/v1/machines/patched.rt.example', { status: 'retired' });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.deepEqual([patched.body.status, patched.body.nodes], ['retired', []]);
      assert.deepEqual(await counts('rt'), [0, 0]);
    });

    test('retiring a retired machine (or a PATCH that changes nothing) is a no-op: same version, no audit entry', async () => {
      await nodes('rtn');
      await machine('noop.rtn.example', { status: 'online', nodes: ['rtn'] });
      const first = await s.call('POST', '/api/v1/machines/noop.rtn.example/retire');
      assert.equal(first.status, 200);
      const audited = async () => (await s.call('GET', '/api/v1/audit?limit=200')).body.items.filter((e: { target: string }) => e.target === 'noop.rtn.example').length;
      const entries = await audited();
      const revision = s.services.feed.revision();
      const again = await s.call('POST', '/api/v1/machines/noop.rtn.example/retire');
      assert.equal(again.status, 200);
      assert.deepEqual([again.body.status, again.body.version], ['retired', first.body.version]);
      const patched = await s.call('PATCH', '/api/v1/machines/noop.rtn.example', { status: 'retired' });
      assert.deepEqual([patched.status, patched.body.version], [200, first.body.version]);
      assert.equal(await audited(), entries, 'no second machine.retire entry');
      assert.equal(s.services.feed.revision(), revision, 'no change event');
    });

    test('a machine in two nodes of a subtree is counted once by the subtree count', async () => {
      await nodes('sc', 'sc.a', 'sc.b');
      await machine('shared.sc.example', { nodes: ['sc.a', 'sc.b'] });
      assert.deepEqual(await counts('sc'), [0, 1]);
    });

    test('a subtree listing is recursive, filtered, paginated by cursor, and counts a machine in two nodes once', async () => {
      await nodes('ls', 'ls.a', 'ls.a.deep', 'ls.b', 'lsx');
      await machine('h1.ls.example', { nodes: ['ls.a'], status: 'online', zone: 'z1', ips: ['10.9.0.1'] });
      await machine('h2.ls.example', { nodes: ['ls.a.deep'], status: 'offline', zone: 'z1' });
      await machine('h3.ls.example', { nodes: ['ls.b', 'ls.a'], status: 'online', zone: 'z2' });
      await machine('h4.ls.example', { nodes: ['ls.b'], status: 'online', zone: 'z1', serial: 'SER-4' });
      await machine('h5.ls.example', { nodes: ['ls.a.deep'], status: 'maintenance' });
      await machine('out.lsx.example', { nodes: ['lsx'] });
      const all = await s.call('GET', '/api/v1/machines?under=ls');
      assert.equal(all.body.total, 5);
      assert.deepEqual(all.body.items.map((m: { hostname: string }) => m.hostname), ['h1.ls.example', 'h2.ls.example', 'h3.ls.example', 'h4.ls.example', 'h5.ls.example']);
      const pages: string[][] = [];
      let url = '/api/v1/machines?under=ls&limit=2';
      for (;;) {
        const page = await s.call('GET', url);
        assert.equal(page.status, 200);
        assert.equal(page.body.total, 5, 'every page carries the whole total');
        pages.push(page.body.items.map((m: { hostname: string }) => m.hostname));
        if (!page.body.nextCursor) break;
        url = `/api/v1/machines?under=ls&limit=2&cursor=${encodeURIComponent(page.body.nextCursor)}`;
      }
      assert.deepEqual(pages.flat(), all.body.items.map((m: { hostname: string }) => m.hostname));
      assert.ok(pages.length >= 3);
      const hosts = async (q: string) => {
        const r = await s.call('GET', `/api/v1/machines?under=ls&${q}`);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return [r.body.total, r.body.items.map((m: { hostname: string }) => m.hostname.split('.')[0]).join(',')];
      };
      assert.deepEqual(await hosts('status=online'), [3, 'h1,h3,h4']);
      assert.deepEqual(await hosts('zone=z1'), [3, 'h1,h2,h4']);
      assert.deepEqual(await hosts('status=online&zone=z1'), [2, 'h1,h4']);
      assert.deepEqual(await hosts('q=h2'), [1, 'h2']);
      assert.deepEqual(await hosts('q=10.9.0'), [1, 'h1']);
      assert.deepEqual(await hosts('q=SER-4'), [1, 'h4']);
      assert.deepEqual(await s.call('GET', '/api/v1/machines?under=ls.a').then((r) => r.body.total), 4, 'h1, h3 and the deep h2, h5');
      assert.equal((await s.call('GET', '/api/v1/machines?under=ls&status=sideways')).status, 400);
      assert.equal((await s.call('GET', '/api/v1/machines?under=ls&cursor=%21%21')).status, 400);
      assert.equal((await s.call('GET', '/api/v1/machines?under=nope')).status, 404);
    });

    test('ops on a subtree manage its machines but cannot pull in, change or list machines of another subtree', async () => {
      await nodes('own', 'own.mine', 'own.theirs');
      const ops = await userWith('own-ops', 'ops', 'own.mine');
      await machine('theirs.own.example', { nodes: ['own.theirs'], os: 'kept' });
      await machine('pool.own.example');
      await machine('mine.own.example', { nodes: ['own.mine'] }, ops);
      assert.equal((await s.call('PATCH', '/api/v1/machines/mine.own.example', { os: 'ok' }, { token: ops })).status, 200);
      assert.equal((await s.call('POST', '/api/v1/machines', { hostname: 'x.own.example', nodes: ['own.theirs'] }, { token: ops })).status, 404);
      assert.equal((await s.call('POST', '/api/v1/machines', { hostname: 'x.own.example' }, { token: ops })).status, 403, 'unbound machines are for superusers');
      for (const host of ['theirs.own.example', 'pool.own.example']) {
        assert.equal((await s.call('PUT', `/api/v1/nodes/own.mine/machines/${host}`, undefined, { token: ops })).status, 404, host);
        assert.equal((await s.call('PATCH', `/api/v1/machines/${host}`, { os: 'taken' }, { token: ops })).status, 404, host);
        assert.equal((await s.call('POST', `/api/v1/machines/${host}/retire`, undefined, { token: ops })).status, 404, host);
      }
      const theirs = (await s.call('GET', '/api/v1/machines/theirs.own.example')).body;
      assert.deepEqual([theirs.nodes, theirs.os, theirs.status], [['own.theirs'], 'kept', 'installing']);
      assert.equal((await s.call('GET', '/api/v1/machines?under=own.theirs', undefined, { token: ops })).status, 404);
      assert.equal((await s.call('GET', '/api/v1/machines', undefined, { token: ops })).status, 400, 'a non-superuser names a subtree');
      assert.equal((await s.call('GET', '/api/v1/machines?under=own.mine', undefined, { token: ops })).body.total, 1);
    });
  });
}
