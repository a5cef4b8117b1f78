/**
 * What scoped users see: alice is a developer on corp.pay, bob an admin on corp.find. One rule
 * everywhere: what you may not see is absent (or only counted), never named; ancestors of your nodes
 * are path-only steps; a renamed node's old path says where it went, to those who may see it there.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_ROLES, OPERATIONS } from '@canopy/core';
import { createServices } from '../services.ts';
import { createNodes, startTestServer, testBackends, type Reply, type TestServer } from '../testing/index.ts';

const ALL: string[] = OPERATIONS.map((o) => o.name);
const dev: string[] = BUILTIN_ROLES.find((r) => r.name === 'developer')?.operations ?? [];
/** The developer role's operations in the registry's order, as `allowed` lists them. */
const DEVELOPER = ALL.filter((op) => dev.includes(op));

for (const backend of testBackends()) {
  describe(`what scoped users see (${backend.name})`, () => {
    let s: TestServer;
    let alice = '';
    let bob = '';
    const as = (token: string) => ({ token });
    const paths = (r: Reply) => r.body.items.map((n: { path: string }) => n.path);

    async function user(username: string, role: string, nodePath: string): Promise<string> {
      assert.equal((await s.call('POST', '/api/v1/users', { username, password: `pw-of-${username}` })).status, 201);
      assert.equal((await s.call('POST', '/api/v1/grants', { user: username, role, nodePath })).status, 201);
      return s.login(username, `pw-of-${username}`);
    }

    before(async () => {
      s = await startTestServer(backend);
      await s.call('POST', '/api/v1/nodes', { parentPath: null, name: 'corp', description: 'the whole company, secretly', labels: { cost: 'center-9' } });
      await createNodes(s, 'corp.pay', 'corp.pay.api', 'corp.pay.web', 'corp.find', 'corp.find.query', 'corp.ops', 'corp.ops.monitor');
      alice = await user('alice', 'developer', 'corp.pay');
      bob = await user('bob', 'admin', 'corp.find');
      const m = await s.call('POST', '/api/v1/machines', { hostname: 'pay-api-01', ips: ['10.0.0.1'], nodes: ['corp.pay.api', 'corp.find.query', 'corp.ops.monitor'] });
      assert.equal(m.status, 201, JSON.stringify(m.body));
      assert.equal((await s.call('POST', '/api/v1/machines', { hostname: 'ops-01', ips: ['10.0.0.2'], nodes: ['corp.ops.monitor'] })).status, 201);
    });
    after(() => s.close());

    test('a scoped user sees the ancestor of her nodes as a path-only step, without its description, labels or company-wide counts', async () => {
      const roots = await s.call('GET', '/api/v1/nodes', undefined, as(alice));
      assert.deepEqual(paths(roots), ['corp']);
      const [corp] = roots.body.items;
      assert.equal(corp.pathOnly, true);
      assert.deepEqual([corp.description, corp.labels, corp.machineCount, corp.subtreeMachineCount, corp.allowed], ['', {}, 0, 0, []]);
      assert.equal(corp.childCount, 1, 'only the child that leads to her nodes is counted');
      const full = (await s.call('GET', '/api/v1/nodes/corp')).body;
      assert.deepEqual([full.pathOnly, full.subtreeMachineCount, full.childCount, full.description], [false, 2, 3, 'the whole company, secretly']);
      assert.deepEqual(full.allowed, ALL, 'a superuser holds every operation');

      const opened = await s.call('GET', '/api/v1/nodes/corp', undefined, as(alice));
      assert.equal(opened.status, 200, JSON.stringify(opened.body));
      assert.deepEqual([opened.body.pathOnly, opened.body.description, opened.body.subtreeMachineCount], [true, '', 0]);
    });

    test('expanding a path-only step answers the children that are visible or lead to visible nodes', async () => {
      const under = await s.call('GET', '/api/v1/nodes?under=corp', undefined, as(alice));
      assert.equal(under.status, 200, JSON.stringify(under.body));
      assert.deepEqual(paths(under), ['corp.pay']);
      assert.deepEqual([under.body.items[0].pathOnly, under.body.items[0].allowed], [false, DEVELOPER]);
      const deep = await s.call('GET', '/api/v1/nodes?under=corp&depth=3', undefined, as(alice));
      assert.deepEqual(paths(deep), ['corp.pay', 'corp.pay.api', 'corp.pay.web']);
      for (const hidden of ['corp.find', 'corp.ops.monitor']) {
        assert.equal((await s.call('GET', `/api/v1/nodes/${hidden}`, undefined, as(alice))).status, 404, hidden);
        assert.equal((await s.call('GET', `/api/v1/nodes?under=${hidden}`, undefined, as(alice))).status, 404, hidden);
      }
    });

    test("a search does not match a path-only step by the description or labels it hides", async () => {
      assert.deepEqual(paths(await s.call('GET', '/api/v1/nodes?q=secretly', undefined, as(alice))), []);
      assert.deepEqual(paths(await s.call('GET', '/api/v1/nodes?label=cost', undefined, as(alice))), []);
      assert.deepEqual(paths(await s.call('GET', '/api/v1/nodes?q=secretly')), ['corp'], 'the superuser finds it');
      assert.deepEqual(paths(await s.call('GET', '/api/v1/nodes?q=corp', undefined, as(alice))), ['corp', 'corp.pay', 'corp.pay.api', 'corp.pay.web']);
    });

    test('allowed lists the operations the caller holds at the node; writes on a path-only step are 403, not 404', async () => {
      assert.deepEqual((await s.call('GET', '/api/v1/nodes/corp.pay.api', undefined, as(alice))).body.allowed, DEVELOPER);
      assert.deepEqual((await s.call('GET', '/api/v1/nodes/corp.find.query', undefined, as(bob))).body.allowed, ALL);
      const child = await s.call('POST', '/api/v1/nodes', { parentPath: 'corp', name: 'alices' }, as(alice));
      assert.deepEqual([child.status, child.body.code], [403, 'forbidden']);
      assert.equal((await s.call('GET', '/api/v1/nodes/corp.alices')).status, 404, 'nothing was created');
      const bind = await s.call('PUT', '/api/v1/nodes/corp/machines/pay-api-01', undefined, as(alice));
      assert.deepEqual([bind.status, bind.body.detail], [403, 'not allowed: machine.write on corp'], 'every route: a step she sees is refused, not denied to exist');
      assert.equal((await s.call('PUT', '/api/v1/nodes/corp.find/machines/pay-api-01', undefined, as(alice))).status, 404);
    });

    test("a machine shared with nodes the caller cannot see names only hers and counts the rest", async () => {
      const one = await s.call('GET', '/api/v1/machines/pay-api-01', undefined, as(alice));
      assert.equal(one.status, 200, JSON.stringify(one.body));
      assert.deepEqual([one.body.nodes, one.body.hiddenNodeCount], [['corp.pay.api'], 2]);
      const listed = await s.call('GET', '/api/v1/machines?under=corp.pay', undefined, as(alice));
      assert.deepEqual(listed.body.items.map((m: { hostname: string; nodes: string[]; hiddenNodeCount: number }) => [m.hostname, m.nodes, m.hiddenNodeCount]), [['pay-api-01', ['corp.pay.api'], 2]]);
      const admin = await s.call('GET', '/api/v1/machines/pay-api-01');
      assert.deepEqual([admin.body.nodes, admin.body.hiddenNodeCount], [['corp.find.query', 'corp.ops.monitor', 'corp.pay.api'], 0]);
      assert.equal(JSON.stringify(one.body).includes('corp.ops'), false, 'no hidden path anywhere in the answer');
    });

    test("a service's dependencies name only what the caller may read, as the graph does", async () => {
      for (const p of ['corp.pay.web', 'corp.pay.api', 'corp.find.query']) {
        const r = await s.call('PUT', `/api/v1/services/${p}`, { ports: [{ name: 'http', port: 8080 }] });
        assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r.body));
      }
      assert.equal((await s.call('PUT', '/api/v1/services/corp.pay.web/dependencies', { services: ['corp.pay.api', 'corp.find.query'] })).status, 200);
      const deps = await s.call('GET', '/api/v1/services/corp.pay.web/dependencies', undefined, as(alice));
      assert.deepEqual(deps.body, { path: 'corp.pay.web', services: ['corp.pay.api'], hiddenCount: 1 });
      const svc = await s.call('GET', '/api/v1/services/corp.pay.web', undefined, as(alice));
      assert.deepEqual(svc.body.dependencies, ['corp.pay.api']);
      const graph = await s.call('GET', '/api/v1/services/corp.pay.web/graph', undefined, as(alice));
      assert.deepEqual(graph.body.upstreams, ['corp.pay.api']);
      assert.deepEqual((await s.call('GET', '/api/v1/services/corp.pay.web/dependencies')).body.services, ['corp.find.query', 'corp.pay.api']);
    });

    test('the audit log and aliases of her subtree do not name the nodes she cannot see', async () => {
      const alias = await s.call('PUT', '/api/v1/aliases/corp.pay.legacy', { target: 'corp.find.query' });
      assert.equal(alias.status, 201, JSON.stringify(alias.body));
      const seen = await s.call('GET', '/api/v1/aliases/corp.pay.legacy', undefined, as(alice));
      assert.deepEqual([seen.status, seen.body.target, seen.body.resolvesTo], [200, '(hidden)', '(hidden)']);
      assert.deepEqual((await s.call('GET', '/api/v1/aliases?under=corp.pay', undefined, as(alice))).body.items.map((a: { target: string }) => a.target), ['(hidden)']);
      assert.equal((await s.call('GET', '/api/v1/aliases/corp.pay.legacy')).body.target, 'corp.find.query');

      const audit = await s.call('GET', '/api/v1/audit?under=corp.pay&limit=200', undefined, as(alice));
      assert.equal(audit.status, 200, JSON.stringify(audit.body));
      const created = audit.body.items.find((e: { operation: string; target: string }) => e.operation === 'machine.create' && e.target === 'pay-api-01');
      assert.deepEqual(created?.after.nodes, ['corp.pay.api']);
      const deps = audit.body.items.find((e: { operation: string }) => e.operation === 'discovery.dependencies.set');
      assert.deepEqual(deps?.after, ['corp.pay.api']);
      assert.doesNotMatch(JSON.stringify(audit.body), /corp\.(find|ops)/);
      const full = await s.call('GET', '/api/v1/audit?under=corp.pay&limit=200');
      assert.match(JSON.stringify(full.body), /corp\.find\.query/, 'a superuser reads the record as written');
    });

    test('renaming a node you administer under a parent you cannot open says what is needed, and changes nothing', async () => {
      const r = await s.call('PATCH', '/api/v1/nodes/corp.find', { name: 'search' }, as(bob));
      assert.deepEqual([r.status, r.body.code, r.body.detail], [403, 'forbidden', 'renaming corp.find needs tree.write on corp']);
      assert.equal((await s.call('GET', '/api/v1/nodes/corp.find')).body.name, 'find');
      const moved = await s.call('POST', '/api/v1/nodes/corp.find.query/move', { parentPath: 'corp.pay' }, as(bob));
      const missing = await s.call('POST', '/api/v1/nodes/corp.find.query/move', { parentPath: 'corp.nothing' }, as(bob));
      assert.equal(moved.status, 404);
      assert.equal(moved.body.detail.replace('corp.pay', 'X'), missing.body.detail.replace('corp.nothing', 'X'), 'an unseen target is refused as a missing one');
      assert.equal((await s.call('PATCH', '/api/v1/nodes/corp.find', { description: 'search things' }, as(bob))).status, 200, 'other edits need no more');
    });

    test('an old path answers "moved" with the new path to those who may see it there, and a plain 404 to others', async () => {
      await createNodes(s, 'corp.search', 'corp.search.query');
      const carol = await user('carol', 'developer', 'corp.search.query');
      const renamed = await s.call('PATCH', '/api/v1/nodes/corp.search', { name: 'found' });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));

      const old = await s.call('GET', '/api/v1/nodes/corp.search.query', undefined, as(carol));
      assert.deepEqual([old.status, old.body.code, old.body.movedTo], [404, 'moved', 'corp.found.query']);
      assert.equal(old.headers['location'], '/api/v1/nodes/corp.found.query');
      assert.equal((await s.call('GET', String(old.headers['location']), undefined, as(carol))).body.path, 'corp.found.query');
      const step = await s.call('GET', '/api/v1/nodes?under=corp.search', undefined, as(carol));
      assert.deepEqual([step.status, step.body.movedTo, step.headers['location']], [404, 'corp.found', '/api/v1/nodes?under=corp.found']);

      const child = await s.call('POST', '/api/v1/nodes', { parentPath: 'corp.search', name: 'kid' });
      assert.deepEqual([child.status, child.body.movedTo, child.headers['location']], [404, 'corp.found', undefined], 'a path in the body has no URL to point at');
      assert.equal((await s.call('GET', '/api/v1/nodes/corp.found.kid')).status, 404, 'nothing was created');

      const bind = await s.call('PUT', '/api/v1/nodes/corp.search.query/machines/ops-01');
      assert.deepEqual([bind.status, bind.body.code, bind.headers['location']], [404, 'moved', '/api/v1/nodes/corp.found.query/machines/ops-01']);
      assert.deepEqual((await s.call('GET', '/api/v1/machines/ops-01')).body.nodes, ['corp.ops.monitor'], 'nothing was bound');

      const replica = createServices(s.database, { onError: (err) => console.error(err) });
      await replica.start();
      try {
        assert.equal(replica.tree.model.movedFrom('corp.search.query')?.path, 'corp.found.query', 'a replica started later knows the old path too');
      } finally {
        await replica.stop();
      }

      const hidden = await s.call('GET', '/api/v1/nodes/corp.search.query', undefined, as(alice));
      const missing = await s.call('GET', '/api/v1/nodes/corp.nothing.query', undefined, as(alice));
      assert.deepEqual([hidden.status, hidden.body.code, hidden.headers['location']], [404, 'not_found', undefined]);
      assert.equal(hidden.body.detail.replace('search', 'X'), missing.body.detail.replace('nothing', 'X'), 'no oracle for where it went');
    });
  });
}
