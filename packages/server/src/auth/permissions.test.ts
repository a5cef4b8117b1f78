/** Roles, grants and `can()`: subtree inheritance, expiry, groups, 404-vs-403, no escalation. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { createNodes, startTestServer, testBackends, type Reply, type TestServer } from '../testing/index.ts';
import type { Actor } from '../changes/index.ts';
import { createAclModel } from './acl.ts';

for (const backend of testBackends()) {
  describe(`roles and grants (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    const tokens = new Map<string, string>();
    async function user(username: string): Promise<string> {
      const made = await s.call('POST', '/api/v1/users', { username, password: `pw-of-${username}` });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const t = await s.login(username, `pw-of-${username}`);
      tokens.set(username, t);
      return t;
    }
    const nodes = (...paths: string[]) => createNodes(s, ...paths);
    const grant = (body: object, token?: string) => s.call('POST', '/api/v1/grants', body, token ? { token } : {});
    function refused(r: Reply, status: 403 | 404): void {
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.code, status === 403 ? 'forbidden' : 'not_found');
    }

    test('custom roles are named sets of known operations; an unknown operation is refused', async () => {
      const made = await s.call('POST', '/api/v1/roles', { name: 'deployer', operations: ['tree.read', 'deploy.run'] });
      assert.equal(made.status, 201);
      assert.deepEqual(made.body.operations, ['tree.read', 'deploy.run']);
      const unknown = await s.call('POST', '/api/v1/roles', { name: 'flyer', operations: ['tree.read', 'tree.fly'] });
      assert.equal(unknown.status, 400);
      assert.match(unknown.body.detail, /tree\.fly/);
      assert.equal((await s.call('POST', '/api/v1/roles', { name: 'deployer', operations: ['tree.read'] })).status, 409);
      const names = (await s.call('GET', '/api/v1/roles')).body.items.map((r: { name: string }) => r.name);
      for (const n of ['admin', 'ops', 'developer', 'viewer', 'deployer']) assert.ok(names.includes(n), n);
      assert.ok(!names.includes('flyer'));
    });

    test('a grant on a node applies to its whole subtree and nowhere else', async () => {
      await nodes('sub', 'sub.a', 'sub.a.b', 'sub.a.b.c', 'sub.z');
      const t = await user('sub-viewer');
      assert.equal((await grant({ user: 'sub-viewer', role: 'viewer', nodePath: 'sub.a' })).status, 201);
      for (const p of ['sub.a', 'sub.a.b', 'sub.a.b.c']) assert.equal((await s.call('GET', `/api/v1/nodes/${p}`, undefined, { token: t })).status, 200, p);
      refused(await s.call('GET', '/api/v1/nodes/sub.z', undefined, { token: t }), 404);
      const step = await s.call('GET', '/api/v1/nodes/sub', undefined, { token: t });
      assert.deepEqual([step.status, step.body.pathOnly, step.body.allowed], [200, true, []], 'the ancestor is a path-only step');
      const roots = (await s.call('GET', '/api/v1/nodes', undefined, { token: t })).body.items.map((n: { path: string }) => n.path);
      assert.deepEqual(roots, ['sub'], 'the way down to the grant is visible for navigation, nothing else');
    });

    test('can(): an unreadable node answers 404 exactly like a missing one; a readable node without the operation 403', async () => {
      await nodes('cn', 'cn.mine', 'cn.theirs');
      const t = await user('cn-viewer');
      await grant({ user: 'cn-viewer', role: 'viewer', nodePath: 'cn.mine' });
      refused(await s.call('PATCH', '/api/v1/nodes/cn.mine', { description: 'x' }, { token: t }), 403);
      refused(await s.call('POST', '/api/v1/nodes', { parentPath: 'cn.mine', name: 'kid' }, { token: t }), 403);
      const hidden = await s.call('PATCH', '/api/v1/nodes/cn.theirs', { description: 'x' }, { token: t });
      const missing = await s.call('PATCH', '/api/v1/nodes/cn.nothing', { description: 'x' }, { token: t });
      refused(hidden, 404);
      refused(missing, 404);
      assert.equal(hidden.body.detail.replace('cn.theirs', 'X'), missing.body.detail.replace('cn.nothing', 'X'), 'no existence oracle');
      const auth = s.services.auth;
      const me = auth.acl.user((await s.call('GET', '/api/v1/auth/me', undefined, { token: t })).body.id);
      assert.ok(me);
      const actor: Actor = { kind: 'user', id: me.id, name: me.username, superuser: false };
      const mine = s.services.tree.node('cn.mine').id;
      assert.equal(auth.can(actor, 'tree.read', mine), true);
      assert.equal(auth.can(actor, 'tree.write', mine), false);
      assert.equal(auth.can(actor, 'tree.read', s.services.tree.node('cn.theirs').id), false);
      assert.equal(auth.can({ ...actor, superuser: true }, 'tree.write', s.services.tree.node('cn.theirs').id), true, 'superusers pass everything');
    });

    test('an expired grant does not count; an expiry in the past is refused', async () => {
      await nodes('exp', 'exp.app');
      const t = await user('exp-ops');
      const g = await grant({ user: 'exp-ops', role: 'ops', nodePath: 'exp.app', expiresAt: new Date(Date.now() + 3600_000).toISOString() });
      assert.equal(g.status, 201);
      assert.equal((await s.call('PATCH', '/api/v1/nodes/exp.app', { description: 'while valid' }, { token: t })).status, 200);
      assert.equal((await grant({ user: 'exp-ops', role: 'ops', nodePath: 'exp', expiresAt: '2001-01-01T00:00:00Z' })).status, 400);
      // Let the hour pass without waiting: expire it in the database and reload, as a restart would.
      await s.database.db.execute(sql`UPDATE grants SET expires_at = now() - interval '1 second' WHERE id = ${g.body.id}`);
      await s.services.auth.load(s.database.db);
      refused(await s.call('PATCH', '/api/v1/nodes/exp.app', { description: 'after expiry' }, { token: t }), 404);
    });

    test('a grant stops counting the moment it expires, without a reload (model clock)', async () => {
      await nodes('clk');
      const nodeId = s.services.tree.node('clk').id;
      let now = Date.parse('2030-01-01T00:00:00Z');
      const acl = createAclModel(s.services.tree.model, () => now);
      const viewer = s.services.auth.acl.roleByName('viewer');
      assert.ok(viewer);
      const grantRow = { id: 1, subjectKind: 'user' as const, subjectId: 9999, roleId: viewer.id, nodeId, expiresAt: '2030-01-01T00:01:00Z', createdAt: '2030-01-01T00:00:00Z' };
      acl.load({ roles: [viewer], grants: [grantRow], members: [], groups: [], users: [{ id: 9999, username: 'clock', superuser: false, disabled: false }] });
      const actor: Actor = { kind: 'user', id: 9999, name: 'clock', superuser: false };
      assert.equal(acl.can(actor, 'tree.read', nodeId), true);
      now += 59_999;
      assert.equal(acl.can(actor, 'tree.read', nodeId), true);
      now += 1;
      assert.equal(acl.can(actor, 'tree.read', nodeId), false);
      assert.deepEqual(acl.grantRoots(actor), []);
    });

    test('a group grant gives every member the role; leaving the group takes it away', async () => {
      await nodes('grp', 'grp.svc');
      const t = await user('grp-member');
      assert.equal((await s.call('POST', '/api/v1/groups', { name: 'grp-ops', members: ['grp-member'] })).status, 201);
      assert.equal((await grant({ group: 'grp-ops', role: 'ops', nodePath: 'grp' })).status, 201);
      assert.equal((await s.call('PATCH', '/api/v1/nodes/grp.svc', { description: 'by group' }, { token: t })).status, 200);
      assert.equal((await s.call('PUT', '/api/v1/groups/grp-ops/members', { members: [] })).status, 200);
      refused(await s.call('PATCH', '/api/v1/nodes/grp.svc', { description: 'no longer' }, { token: t }), 404);
      assert.equal((await grant({ group: 'no-such-group', role: 'ops', nodePath: 'grp' })).status, 400);
      assert.equal((await grant({ user: 'grp-member', group: 'grp-ops', role: 'ops', nodePath: 'grp' })).status, 400, 'exactly one subject');
    });

    test('a non-superuser cannot grant operations they do not hold, nor outside their subtree', async () => {
      await nodes('esc', 'esc.team', 'esc.team.app', 'esc.other');
      assert.equal((await s.call('POST', '/api/v1/roles', { name: 'granter', operations: ['tree.read', 'grant.read', 'grant.write'] })).status, 201);
      assert.equal((await s.call('POST', '/api/v1/roles', { name: 'reader', operations: ['tree.read'] })).status, 201);
      const lead = await user('esc-lead');
      await user('esc-dev');
      const ops = await user('esc-ops');
      await grant({ user: 'esc-lead', role: 'granter', nodePath: 'esc.team' });
      await grant({ user: 'esc-ops', role: 'ops', nodePath: 'esc.team' });
      const before = (await s.call('GET', '/api/v1/nodes/esc.team/grants')).body.items.length;
      for (const role of ['ops', 'admin', 'viewer']) {
        const r = await grant({ user: 'esc-dev', role, nodePath: 'esc.team.app' }, lead);
        refused(r, 403);
        assert.match(r.body.detail, /lacking/);
      }
      refused(await grant({ user: 'esc-lead', role: 'admin', nodePath: 'esc.team' }, lead), 403);
      refused(await grant({ user: 'esc-dev', role: 'reader', nodePath: 'esc.other' }, lead), 404);
      refused(await grant({ user: 'esc-dev', role: 'viewer', nodePath: 'esc.team.app' }, ops), 403);
      assert.equal((await s.call('GET', '/api/v1/nodes/esc.team/grants')).body.items.length, before, 'no refused grant landed');
      const ok = await grant({ user: 'esc-dev', role: 'reader', nodePath: 'esc.team.app' }, lead);
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      const theirs = await grant({ user: 'esc-dev', role: 'reader', nodePath: 'esc.other' });
      refused(await s.call('DELETE', `/api/v1/grants/${theirs.body.id}`, undefined, { token: lead }), 404);
      assert.equal((await s.call('DELETE', `/api/v1/grants/${ok.body.id}`, undefined, { token: lead })).status, 204);
    });
  });
}
