/** Restoring from the trash puts a node back under its parent's current path, or refuses and changes nothing. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { rows } from '../db/connection.ts';
import { createServices } from '../services.ts';
import { createNodes, startTestServer, testBackends, type TestServer } from '../testing/index.ts';

for (const backend of testBackends()) {
  describe(`restore from the trash (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    const nodes = (...paths: string[]) => createNodes(s, ...paths);
    async function trash(path: string): Promise<number> {
      const id = s.services.tree.node(path).id;
      assert.equal((await s.call('DELETE', `/api/v1/nodes/${path}`)).status, 204);
      return id;
    }
    const restore = (id: number) => s.call('POST', `/api/v1/trash/${id}/restore`);
    const status = async (path: string) => (await s.call('GET', `/api/v1/nodes/${path}`)).status;
    const inTrash = async (id: number) => ((await s.call('GET', '/api/v1/trash')).body.items as { id: number }[]).some((t) => t.id === id);
    const history = (id: number) =>
      rows<{ old_path: string; new_path: string }>(s.database.db, sql`SELECT old_path, new_path FROM node_path_history WHERE node_id = ${id} ORDER BY changed_at, old_path`);

    test('a node deleted before its parent was renamed comes back under the new name', async () => {
      await nodes('rp', 'rp.kid');
      const svc = await s.call('PUT', '/api/v1/services/rp.kid', { ports: [{ name: 'http', port: 8080 }] });
      assert.equal(svc.status, 201, JSON.stringify(svc.body));
      const kid = await trash('rp.kid');
      assert.equal((await s.call('PATCH', '/api/v1/nodes/rp', { name: 'rq' })).status, 200);
      const listed0 = ((await s.call('GET', '/api/v1/trash')).body.items as { id: number; path: string; restoresAs: string | null }[]).find((t) => t.id === kid);
      assert.deepEqual([listed0?.path, listed0?.restoresAs], ['rp.kid', 'rq.kid'], 'the trash says where a restore would put it');

      const res = await restore(kid);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual([res.body.id, res.body.path, res.body.parentPath], [kid, 'rq.kid', 'rq']);
      assert.equal((await s.call('GET', '/api/v1/nodes/rq.kid')).body.id, kid);
      assert.equal(await status('rp.kid'), 404, 'the stale path names nothing live');
      const listed = await s.call('GET', '/api/v1/nodes?under=rq');
      assert.deepEqual(listed.body.items.map((n: { path: string }) => n.path), ['rq.kid']);
      assert.ok(!(await inTrash(kid)));

      // The old path is recorded as a rename records it, so it resolves where old paths resolve.
      assert.deepEqual(await history(kid), [{ old_path: 'rp.kid', new_path: 'rq.kid' }]);
      assert.equal((await s.services.tree.resolveOldPath('rp.kid'))?.path, 'rq.kid');
      assert.equal(s.services.discovery.resolve('rq.kid', { healthyOnly: false })?.service, 'rq.kid');
      assert.equal(s.services.discovery.resolve('rp.kid', { healthyOnly: false })?.service, 'rq.kid');
      assert.deepEqual(s.services.discovery.lookupAlias('rp.kid'), { target: 'rq.kid', kind: 'renamed' });

      // New children and machines land under the current path, and count up the tree.
      await nodes('rq.kid.leaf');
      const m = await s.call('POST', '/api/v1/machines', { hostname: 'rq-m1.example', nodes: ['rq.kid'] });
      assert.equal(m.status, 201, JSON.stringify(m.body));
      assert.deepEqual(m.body.nodes, ['rq.kid']);
      const under = await s.call('GET', '/api/v1/machines?under=rq');
      assert.deepEqual(under.body.items.map((x: { hostname: string }) => x.hostname), ['rq-m1.example']);
      assert.equal((await s.call('GET', '/api/v1/nodes/rq')).body.subtreeMachineCount, 1);

      const audit = await s.call('GET', '/api/v1/audit?under=rq');
      const entry = audit.body.items.find((e: { operation: string }) => e.operation === 'tree.restore');
      assert.deepEqual([entry?.target, entry?.before?.path, entry?.after?.path], ['rq.kid', 'rp.kid', 'rq.kid']);

      // A replica loading from the database afterwards holds the same tree and the same old path.
      const replica = createServices(s.database, { onError: (err) => console.error(err) });
      await replica.start();
      try {
        assert.equal(replica.tree.model.byPath('rq.kid')?.id, kid);
        assert.equal(replica.tree.model.byPath('rp.kid'), undefined);
        assert.equal(replica.discovery.resolve('rp.kid', { healthyOnly: false })?.service, 'rq.kid');
      } finally {
        await replica.stop();
      }
    });

    test('a replica started while the node was in the trash learns its old path when it is restored elsewhere', async () => {
      await nodes('tp', 'tp.kid');
      assert.equal((await s.call('PUT', '/api/v1/services/tp.kid', { ports: [{ name: 'http', port: 8080 }] })).status, 201);
      const kid = await trash('tp.kid');
      const replica = createServices(s.database, { onError: (err) => console.error(err) });
      await replica.start();
      try {
        assert.equal((await s.call('PATCH', '/api/v1/nodes/tp', { name: 'tq' })).status, 200);
        assert.equal((await restore(kid)).status, 200);
        await replica.feed.catchUp();
        assert.equal(replica.discovery.resolve('tq.kid', { healthyOnly: false })?.service, 'tq.kid');
        assert.equal(replica.discovery.resolve('tp.kid', { healthyOnly: false })?.service, 'tq.kid', 'the path it had in the trash is an old path now');
      } finally {
        await replica.stop();
      }
    });

    test('a node whose parent was moved comes back under the moved parent', async () => {
      await nodes('mva', 'mva.p', 'mva.p.kid', 'mvb');
      const kid = await trash('mva.p.kid');
      assert.equal((await s.call('POST', '/api/v1/nodes/mva.p/move', { parentPath: 'mvb' })).status, 200);
      const res = await restore(kid);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.path, 'mvb.p.kid');
      assert.equal(await status('mvb.p.kid'), 200);
      assert.equal(await status('mva.p.kid'), 404);
      assert.equal((await s.services.tree.resolveOldPath('mva.p.kid'))?.path, 'mvb.p.kid');
    });

    test('levels deleted together come back top first, each under the current path', async () => {
      await nodes('lv', 'lv.a', 'lv.a.b', 'lv.a.b.c');
      const c = await trash('lv.a.b.c');
      const b = await trash('lv.a.b');
      const a = await trash('lv.a');
      assert.equal((await s.call('PATCH', '/api/v1/nodes/lv', { name: 'lw' })).status, 200);

      const early = await restore(c);
      assert.equal(early.status, 409, JSON.stringify(early.body));
      assert.equal(early.body.code, 'conflict');
      assert.equal(early.body.detail, `cannot restore 'lv.a.b.c': its parent 'lv.a.b' is in the trash (id ${b}); restore the parent first`);
      assert.deepEqual([early.body.parentId, early.body.parentPath], [b, 'lv.a.b']);
      assert.ok(await inTrash(c), 'the refusal left it in the trash');
      const trashed = new Map(((await s.call('GET', '/api/v1/trash')).body.items as { id: number; restoresAs: string | null }[]).map((t) => [t.id, t.restoresAs]));
      assert.deepEqual([trashed.get(a), trashed.get(b), trashed.get(c)], ['lw.a', null, null], 'only the top can be restored now');

      for (const [id, path] of [[a, 'lw.a'], [b, 'lw.a.b'], [c, 'lw.a.b.c']] as const) {
        const res = await restore(id);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.path, path);
      }
      const all = await s.call('GET', '/api/v1/nodes?under=lw&depth=3');
      assert.deepEqual(all.body.items.map((n: { path: string }) => n.path), ['lw.a', 'lw.a.b', 'lw.a.b.c']);
      assert.equal(s.services.tree.model.byPath('lv.a.b.c'), undefined);
      assert.deepEqual(await history(c), [{ old_path: 'lv.a.b.c', new_path: 'lw.a.b.c' }]);
    });

    test('refuses with 409 when a live sibling holds the name at the new path, changing nothing', async () => {
      await nodes('cp', 'cp.kid');
      const kid = await trash('cp.kid');
      assert.equal((await s.call('PATCH', '/api/v1/nodes/cp', { name: 'cq' })).status, 200);
      await nodes('cq.kid');
      const taken = s.services.tree.node('cq.kid');

      const res = await restore(kid);
      assert.equal(res.status, 409, JSON.stringify(res.body));
      assert.equal(res.body.code, 'conflict');
      assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.equal(res.body.detail, `cannot restore 'cp.kid' as 'cq.kid': a live node already has that path; rename or delete it first`);
      assert.equal(res.body.path, 'cq.kid');
      assert.ok(await inTrash(kid), 'still in the trash');
      assert.equal((await s.call('GET', '/api/v1/nodes/cq.kid')).body.id, taken.id, 'the live sibling is untouched');
      assert.deepEqual(await history(kid), []);
    });

    test('a node restored where it was keeps its path and gains no old-path record', async () => {
      await nodes('same', 'same.kid');
      const kid = await trash('same.kid');
      const res = await restore(kid);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.path, 'same.kid');
      assert.deepEqual(await history(kid), []);
      assert.equal((await restore(kid)).status, 404, 'no longer in the trash');
    });
  });
}
