import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';

for (const backend of testBackends()) {
  describe(`service tree (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    const mk = (parentPath: string | null, name: string, extra: object = {}) => s.call('POST', '/api/v1/nodes', { parentPath, name, ...extra });

    test('creates nodes and reads them back by dotted path', async () => {
      assert.equal((await mk(null, 'corp')).status, 201);
      const ops = await mk('corp', 'ops', { description: 'operations', labels: { team: 'sre' } });
      assert.equal(ops.status, 201);
      assert.equal(ops.body.path, 'corp.ops');
      const got = await s.call('GET', '/api/v1/nodes/corp.ops');
      assert.equal(got.status, 200);
      assert.equal(got.body.description, 'operations');
      assert.deepEqual(got.body.labels, { team: 'sre' });
      assert.match(String(got.headers.etag), /^"n\d+v1"$/);
    });

    test('lists children and a subtree to a depth, and searches by name and label', async () => {
      await mk(null, 'lst');
      await mk('lst', 'a');
      await mk('lst', 'b', { labels: { tier: 'web' } });
      await mk('lst.a', 'deep');
      const children = await s.call('GET', '/api/v1/nodes?under=lst');
      assert.deepEqual(children.body.items.map((n: { path: string }) => n.path), ['lst.a', 'lst.b']);
      const two = await s.call('GET', '/api/v1/nodes?under=lst&depth=2');
      assert.deepEqual(two.body.items.map((n: { path: string }) => n.path), ['lst.a', 'lst.b', 'lst.a.deep']);
      const byName = await s.call('GET', '/api/v1/nodes?q=deep');
      assert.deepEqual(byName.body.items.map((n: { path: string }) => n.path), ['lst.a.deep']);
      const byLabel = await s.call('GET', '/api/v1/nodes?label=tier=web');
      assert.deepEqual(byLabel.body.items.map((n: { path: string }) => n.path), ['lst.b']);
    });

    test('rename re-paths the whole subtree and keeps ids; the old path is recorded', async () => {
      await mk(null, 'ren');
      const mid = await mk('ren', 'old');
      const leaf = await mk('ren.old', 'leaf');
      const res = await s.call('PATCH', '/api/v1/nodes/ren.old', { name: 'new' });
      assert.equal(res.status, 200);
      assert.equal(res.body.path, 'ren.new');
      const moved = await s.call('GET', '/api/v1/nodes/ren.new.leaf');
      assert.equal(moved.body.id, leaf.body.id);
      assert.equal(res.body.id, mid.body.id);
      assert.equal((await s.call('GET', '/api/v1/nodes/ren.old.leaf')).status, 404);
      const resolved = await s.services.tree.resolveOldPath('ren.old.leaf');
      assert.equal(resolved?.path, 'ren.new.leaf');
    });

    test('move re-paths atomically and refuses a move under itself or a descendant', async () => {
      await mk(null, 'mv');
      await mk('mv', 'src');
      await mk('mv.src', 'child');
      await mk('mv', 'dst');
      const cycle = await s.call('POST', '/api/v1/nodes/mv.src/move', { parentPath: 'mv.src.child' });
      assert.equal(cycle.status, 400);
      assert.match(cycle.body.detail, /under itself or its descendant/);
      assert.equal((await s.call('GET', '/api/v1/nodes/mv.src.child')).status, 200, 'nothing moved');
      const ok = await s.call('POST', '/api/v1/nodes/mv.src/move', { parentPath: 'mv.dst' });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.path, 'mv.dst.src');
      assert.equal((await s.call('GET', '/api/v1/nodes/mv.dst.src.child')).status, 200);
    });

    test('refuses a duplicate path with 409 and leaves the tree unchanged', async () => {
      await mk(null, 'dup');
      await mk('dup', 'x');
      const again = await mk('dup', 'x');
      assert.equal(again.status, 409);
      assert.equal(again.body.code, 'conflict');
      await mk('dup', 'y');
      const clash = await s.call('PATCH', '/api/v1/nodes/dup.y', { name: 'x' });
      assert.equal(clash.status, 409);
      assert.equal((await s.call('GET', '/api/v1/nodes/dup.y')).status, 200);
    });

    test('delete refuses a node with children or machines, trash restores', async () => {
      await mk(null, 'del');
      await mk('del', 'kid');
      const refused = await s.call('DELETE', '/api/v1/nodes/del');
      assert.equal(refused.status, 409);
      assert.match(refused.body.detail, /1 child node/);
      await s.call('POST', '/api/v1/machines', { hostname: 'del-m1.example', nodes: ['del.kid'] });
      const withMachine = await s.call('DELETE', '/api/v1/nodes/del.kid');
      assert.equal(withMachine.status, 409);
      assert.match(withMachine.body.detail, /1 machine/);
      await s.call('DELETE', '/api/v1/nodes/del.kid/machines/del-m1.example');
      const gone = await s.call('DELETE', '/api/v1/nodes/del.kid');
      assert.equal(gone.status, 204);
      assert.equal((await s.call('GET', '/api/v1/nodes/del.kid')).status, 404);
      const trash = await s.call('GET', '/api/v1/trash');
      const entry = trash.body.items.find((t: { path: string }) => t.path === 'del.kid');
      assert.ok(entry, 'deleted node is in the trash');
      const restored = await s.call('POST', `/api/v1/trash/${entry.id}/restore`);
      assert.equal(restored.status, 200);
      assert.equal((await s.call('GET', '/api/v1/nodes/del.kid')).status, 200);
    });

    test('If-Match guards concurrent edits with 412', async () => {
      await mk(null, 'etag');
      const cur = await s.call('GET', '/api/v1/nodes/etag');
      const etag = String(cur.headers.etag);
      const first = await s.call('PATCH', '/api/v1/nodes/etag', { description: 'one' }, { headers: { 'if-match': etag } });
      assert.equal(first.status, 200);
      const stale = await s.call('PATCH', '/api/v1/nodes/etag', { description: 'two' }, { headers: { 'if-match': etag } });
      assert.equal(stale.status, 412);
      assert.equal((await s.call('GET', '/api/v1/nodes/etag')).body.description, 'one');
    });

    test('rejects invalid names, unknown parents and wrong types with 4xx and no change', async () => {
      const before = s.services.tree.model.size();
      for (const bad of [
        { parentPath: null, name: 'Upper' },
        { parentPath: null, name: '-lead' },
        { parentPath: null, name: 'a.b' },
        { parentPath: null, name: 'x'.repeat(64) },
        { parentPath: 'no.such.parent', name: 'ok' },
        { parentPath: null, name: 42 },
        { parentPath: null },
        { parentPath: null, name: 'extra', bogus: true },
      ]) {
        const r = await s.call('POST', '/api/v1/nodes', bad);
        assert.ok(r.status >= 400 && r.status < 500, `${JSON.stringify(bad)} → ${r.status}`);
        assert.equal(r.headers['content-type'], 'application/problem+json; charset=utf-8');
        assert.ok(r.body.code);
      }
      assert.equal(s.services.tree.model.size(), before);
    });

    test('a bad label key says why, not just that the key is invalid', async () => {
      const r = await mk(null, 'badlabel', { labels: { 'Bad Key': 'x' } });
      assert.equal(r.status, 400);
      assert.deepEqual(r.body.issues[0].path, ['body', 'labels', 'Bad Key']);
      assert.match(r.body.issues[0].message, /^key "Bad Key": label keys are lower-case/);
    });

    test('a change is audited in the same transaction, queryable by subtree', async () => {
      await mk(null, 'aud');
      await mk('aud', 'one');
      const res = await s.call('GET', '/api/v1/audit?under=aud');
      assert.deepEqual(res.body.items.map((e: { operation: string; target: string }) => `${e.operation} ${e.target}`), ['tree.create aud.one', 'tree.create aud']);
      assert.equal(res.body.items[0].actor, 'admin');
      assert.equal((await s.call('DELETE', '/api/v1/audit')).status, 404, 'no route edits the audit log');
    });

    test("a deleted node's entries stay in its parent's audit", async () => {
      await mk(null, 'audel');
      await mk('audel', 'gone');
      await s.call('DELETE', '/api/v1/nodes/audel.gone');
      const res = await s.call('GET', '/api/v1/audit?under=audel');
      assert.deepEqual(res.body.items.map((e: { operation: string }) => e.operation), ['tree.delete', 'tree.create', 'tree.create']);
    });
  });
}
