import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { startTestServer, testBackends, ADMIN_PASSWORD, type TestServer } from '../../server/src/testing/index.ts';
import { CanopyApiError, CanopyNetworkError, createClient, type CanopyClient } from './index.ts';

describe('SDK client against a live server', () => {
  let s: TestServer;
  let url: string;
  let api: CanopyClient;
  before(async () => {
    s = await startTestServer(testBackends()[0]!);
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
    api = createClient({ url, token: (await createClient({ url }).login('admin', ADMIN_PASSWORD)).token });
  });
  after(() => s.close());

  test('login returns a session token that authenticates me()', async () => {
    const session = await createClient({ url }).login('admin', ADMIN_PASSWORD);
    assert.match(session.token, /^cns_/);
    const me = await createClient({ url, token: session.token }).me();
    assert.equal(me.username, 'admin');
    assert.equal(me.superuser, true);
  });

  test('creates, reads, renames, moves and deletes nodes, then restores one from the trash', async () => {
    await api.nodes.create({ parentPath: null, name: 'sdk' });
    await api.nodes.create({ parentPath: 'sdk', name: 'a', labels: { tier: 'web' } });
    await api.nodes.create({ parentPath: 'sdk', name: 'b' });
    assert.deepEqual((await api.nodes.list({ under: 'sdk' })).map((n) => n.path), ['sdk.a', 'sdk.b']);
    assert.equal((await api.nodes.patch('sdk.a', { name: 'web' })).path, 'sdk.web');
    assert.equal((await api.nodes.move('sdk.web', 'sdk.b')).path, 'sdk.b.web');
    assert.deepEqual((await api.nodes.get('sdk.b.web')).labels, { tier: 'web' });
    await api.nodes.delete('sdk.b.web');
    const trashed = (await api.nodes.trash()).find((t) => t.path === 'sdk.b.web');
    assert.ok(trashed, 'the removed node is in the trash');
    assert.equal((await api.nodes.restore(trashed.id)).path, 'sdk.b.web');
  });

  test('a problem answer becomes a CanopyApiError with status, code, detail and issues', async () => {
    await assert.rejects(api.nodes.get('sdk.nope'), (err: unknown) => {
      assert.ok(err instanceof CanopyApiError);
      assert.equal(err.status, 404);
      assert.equal(err.code, 'not_found');
      assert.equal(err.detail, "node 'sdk.nope' not found");
      return true;
    });
    await assert.rejects(api.nodes.create({ parentPath: 'sdk', name: 'Not_A_Label' }), (err: unknown) => {
      assert.ok(err instanceof CanopyApiError);
      assert.equal(err.status, 400);
      assert.equal(err.code, 'validation_failed');
      assert.deepEqual(err.issues[0]?.path, ['body', 'name']);
      return true;
    });
  });

  test('a stale If-Match is refused as precondition_failed', async () => {
    await api.nodes.create({ parentPath: 'sdk', name: 'etag' });
    await assert.rejects(api.nodes.patch('sdk.etag', { description: 'x' }, { ifMatch: '"n1v999"' }), { code: 'precondition_failed', status: 412 });
  });

  test('machines: create, bind, unbind, patch, retire, and list every page through the cursor', async () => {
    await api.nodes.create({ parentPath: 'sdk', name: 'pool' });
    for (const h of ['m-1', 'm-2', 'm-3']) await api.machines.create({ hostname: h, nodes: ['sdk.pool'] });
    const first = await api.machines.list({ under: 'sdk.pool', limit: 2 });
    assert.equal(first.items.length, 2);
    assert.ok(first.nextCursor);
    const all = [];
    for await (const m of api.machines.all({ under: 'sdk.pool', limit: 2 })) all.push(m.hostname);
    assert.deepEqual(all, ['m-1', 'm-2', 'm-3']);
    assert.deepEqual((await api.machines.bind('sdk.b', 'm-1')).nodes.sort(), ['sdk.b', 'sdk.pool']);
    await api.machines.unbind('sdk.b', 'm-1');
    assert.deepEqual((await api.machines.get('m-1')).nodes, ['sdk.pool']);
    assert.equal((await api.machines.patch('m-2', { zone: 'z1' })).zone, 'z1');
    assert.equal((await api.machines.retire('m-3')).status, 'retired');
  });

  test('machines.import reports per row for CSV and JSON', async () => {
    const csv = 'hostname,ips,nodes\nimp-1,10.1.0.1,sdk.pool\nBAD HOST,10.1.0.2,sdk.pool\n';
    const r = await api.machines.import('csv', csv);
    assert.deepEqual([r.created, r.failed], [1, 1]);
    assert.equal(r.rows[1]?.ok, false);
    const j = await api.machines.import('json', [{ hostname: 'imp-1', zone: 'z2' }], 'upsert');
    assert.deepEqual([j.created, j.updated, j.failed], [0, 1, 0]);
  });

  test('users, groups, roles, grants and tokens', async () => {
    await api.users.create({ username: 'sdk-bob', password: 'bob-password-1' });
    const g = await api.groups.create({ name: 'sdk-team', members: ['sdk-bob'] });
    assert.deepEqual(g.members, ['sdk-bob']);
    assert.ok((await api.roles.list()).some((r) => r.name === 'viewer'));
    const grant = await api.grants.create({ group: 'sdk-team', role: 'viewer', nodePath: 'sdk' });
    assert.ok((await api.grants.list('sdk.pool')).some((x) => x.id === grant.id), 'a grant on an ancestor applies below it');
    const bob = createClient({ url, token: (await createClient({ url }).login('sdk-bob', 'bob-password-1')).token });
    assert.equal((await bob.nodes.get('sdk.pool')).path, 'sdk.pool');
    await api.grants.revoke(grant.id);
    await assert.rejects(bob.nodes.get('sdk.pool'), { code: 'not_found' });

    const t = await bob.tokens.create({ name: 'ci', expiresInDays: 1 });
    assert.equal((await createClient({ url, token: t.token }).me()).username, 'sdk-bob');
    await bob.tokens.revoke(t.id);
    await assert.rejects(createClient({ url, token: t.token }).me(), { code: 'unauthenticated', status: 401 });
  });

  test('audit pages backwards with the cursor', async () => {
    const page = await api.audit.list({ under: 'sdk', limit: 2 });
    assert.equal(page.items.length, 2);
    assert.ok(page.nextCursor);
    const next = await api.audit.list({ under: 'sdk', limit: 2, cursor: page.nextCursor });
    assert.ok(next.items.every((e) => e.id < page.items[1]!.id));
  });

  test('request() reaches routes without a typed method', async () => {
    const health = await api.request<{ status: string }>('GET', '/health');
    assert.equal(health.status, 'ok');
    await assert.rejects(api.request('GET', '/no-such-route'), { status: 404, code: 'not_found' });
  });

  test('an unreachable server is a CanopyNetworkError naming the URL', async () => {
    const closed = createClient({ url: 'http://127.0.0.1:1', token: 'x' });
    await assert.rejects(closed.me(), (err: unknown) => err instanceof CanopyNetworkError && err.message.startsWith('cannot reach http://127.0.0.1:1'));
  });
});
