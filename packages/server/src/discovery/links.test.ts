import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { hosts, mkInstance, mkNodes, mkService, userWith } from './fixtures.test-util.ts';

for (const backend of testBackends()) {
  describe(`discovery aliases and graph (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    const alias = (path: string, target: string, token?: string) => s.call('PUT', `/api/v1/aliases/${path}`, { target }, token ? { token } : {});

    test('an alias chain answers with the final service; switching is one change', async () => {
      await mkService(s, 'cn.blue');
      await mkService(s, 'cn.green');
      await mkInstance(s, 'cn.blue', 'cn-blue.example', '10.30.0.1');
      await mkInstance(s, 'cn.green', 'cn-green.example', '10.30.0.2');
      const live = await alias('cn.live', 'cn.blue');
      assert.equal(live.status, 201);
      assert.deepEqual([live.body.target, live.body.resolvesTo], ['cn.blue', 'cn.blue']);
      assert.equal((await alias('cn.www', 'cn.live')).status, 201);
      let a = (await s.call('GET', '/api/v1/services/cn.www/instances')).body;
      assert.deepEqual([a.service, a.aliasChain, hosts(a)], ['cn.blue', ['cn.www', 'cn.live'], ['cn-blue.example']]);
      const before = s.services.feed.revision();
      const sw = await alias('cn.live', 'cn.green');
      assert.equal(sw.status, 200);
      assert.equal(s.services.feed.revision(), before + 1, 'one change event');
      a = (await s.call('GET', '/api/v1/services/cn.www/instances')).body;
      assert.deepEqual([a.service, hosts(a)], ['cn.green', ['cn-green.example']]);
      assert.ok(a.index > before, 'the answer index moved with the switch');
      assert.deepEqual(s.services.discovery.lookupAlias('cn.www'), { target: 'cn.live', kind: 'alias' });
    });

    test('refuses loops, over-long chains and shadowing a service, changing nothing', async () => {
      await mkService(s, 'lp.svc');
      assert.equal((await alias('lp.a', 'lp.svc')).status, 201);
      assert.equal((await alias('lp.b', 'lp.a')).status, 201);
      const loop = await alias('lp.a', 'lp.b');
      assert.equal(loop.status, 400);
      assert.match(loop.body.detail, /loop/);
      assert.equal((await alias('lp.c', 'lp.c')).status, 400);
      assert.equal((await s.call('GET', '/api/v1/aliases/lp.a')).body.target, 'lp.svc', 'unchanged');
      let prev = 'lp.svc';
      for (let i = 1; i <= 8; i++) {
        assert.equal((await alias(`lp.d${i}`, prev)).status, 201, `link ${i}`);
        prev = `lp.d${i}`;
      }
      const deep = await alias('lp.d9', prev);
      assert.equal(deep.status, 400);
      assert.match(deep.body.detail, /at most 8/);
      assert.equal((await s.call('GET', '/api/v1/aliases/lp.d9')).status, 404);
      assert.equal((await alias('lp.svc', 'lp.a')).status, 409, 'an alias cannot shadow a service');
      assert.equal((await alias('lp.e', 'lp.nothing')).status, 404, 'the target must resolve');
      assert.equal((await s.call('DELETE', '/api/v1/aliases/lp.a')).status, 409, 'lp.b still names it');
      assert.equal((await s.call('DELETE', '/api/v1/services/lp.svc')).status, 409, 'lp.a still names it');
      assert.equal((await s.call('DELETE', '/api/v1/aliases/lp.b')).status, 204);
      const listed = await s.call('GET', '/api/v1/aliases?under=lp');
      assert.deepEqual(listed.body.items.map((x: { path: string }) => x.path), ['lp.a', ...[1, 2, 3, 4, 5, 6, 7, 8].map((i) => `lp.d${i}`)]);
    });

    test('switching an alias needs write where it lives and read on the new target', async () => {
      await mkService(s, 'asec.mine.svc');
      await mkService(s, 'asec.theirs.svc');
      const ops = await userWith(s, 'alias-ops', 'ops', 'asec.mine');
      assert.equal((await alias('asec.mine.live', 'asec.mine.svc', ops)).status, 201);
      assert.equal((await alias('asec.mine.live', 'asec.theirs.svc', ops)).status, 404, 'cannot see the target');
      assert.equal((await alias('asec.theirs.live', 'asec.mine.svc', ops)).status, 404, 'cannot write there');
    });

    test('dependency graph: declared and observed edges, upstreams and downstreams', async () => {
      await mkService(s, 'g.front');
      await mkService(s, 'g.api');
      await mkService(s, 'g.db');
      await mkNodes(s, 'g.batch');
      const dep = await s.call('PUT', '/api/v1/services/g.front/dependencies', { services: ['g.api'] });
      assert.deepEqual(dep.body, { path: 'g.front', services: ['g.api'], hiddenCount: 0 });
      await s.call('PUT', '/api/v1/services/g.api/dependencies', { services: ['g.db'] });
      assert.equal((await s.call('PUT', '/api/v1/services/g.db/dependencies', { services: ['g.db'] })).status, 400);
      assert.equal((await s.call('PUT', '/api/v1/services/g.db/dependencies', { services: ['g.nowhere'] })).status, 404);
      // Observed: g.batch looks g.api up twice (counted in memory, written in a batch).
      for (let i = 0; i < 2; i++) assert.equal((await s.call('GET', '/api/v1/services/g.api/instances?caller=g.batch')).status, 200);
      let g = (await s.call('GET', '/api/v1/services/g.api/graph')).body;
      assert.deepEqual(g.upstreams, ['g.db']);
      assert.deepEqual(g.downstreams, ['g.batch', 'g.front']);
      await s.services.discovery.edges.flush();
      assert.equal(s.services.discovery.edges.pending().length, 0);
      g = (await s.call('GET', '/api/v1/services/g.api/graph?depth=2')).body;
      const edge = g.edges.find((e: { from: string; to: string }) => e.from === 'g.batch' && e.to === 'g.api');
      assert.deepEqual([edge.declared, edge.observedCalls], [false, 2]);
      assert.deepEqual(g.nodes.map((n: { path: string }) => n.path), ['g.api', 'g.batch', 'g.db', 'g.front']);
      const one = (await s.call('GET', '/api/v1/services/g.front/graph?depth=1')).body;
      assert.deepEqual(one.nodes.map((n: { path: string }) => n.path), ['g.api', 'g.front']);
      const two = (await s.call('GET', '/api/v1/services/g.front/graph?depth=2')).body;
      assert.deepEqual(two.nodes.map((n: { path: string }) => n.path), ['g.api', 'g.batch', 'g.db', 'g.front']);
    });
  });
}
