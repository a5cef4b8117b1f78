/** Administering accounts: deleting users, groups and roles, editing roles, one grant per subject, role and node. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createNodes, startTestServer, testBackends, type Reply, type TestServer } from '../testing/index.ts';

for (const backend of testBackends()) {
  describe(`account administration (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    async function mkUser(username: string): Promise<string> {
      assert.equal((await s.call('POST', '/api/v1/users', { username, password: `pw-of-${username}` })).status, 201);
      return s.login(username, `pw-of-${username}`);
    }
    async function grant(body: object): Promise<number> {
      const r = await s.call('POST', '/api/v1/grants', body);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body.id as number;
    }
    const status = async (token: string, url: string) => (await s.call('GET', url, undefined, { token })).status;
    function refused(r: Reply, st: number, code: string, detail?: RegExp): void {
      assert.equal(r.status, st, JSON.stringify(r.body));
      assert.equal(r.body.code, code);
      if (detail) assert.match(r.body.detail, detail);
    }
    const lastAudit = async (operation: string) => (await s.call('GET', `/api/v1/audit?operation=${operation}&limit=1`)).body.items[0];

    test('the same grant twice answers 409 naming the grant that exists, and adds nothing', async () => {
      await createNodes(s, 'dup');
      await mkUser('dup-ann');
      const id = await grant({ user: 'dup-ann', role: 'viewer', nodePath: 'dup' });
      const again = await s.call('POST', '/api/v1/grants', { user: 'dup-ann', role: 'viewer', nodePath: 'dup' });
      refused(again, 409, 'conflict', new RegExp(`grant ${id}`));
      assert.equal(again.body.grant.id, id);
      const held = (await s.call('GET', '/api/v1/nodes/dup/grants')).body.items.filter((g: { subject: string }) => g.subject === 'dup-ann');
      assert.equal(held.length, 1);
      await grant({ user: 'dup-ann', role: 'developer', nodePath: 'dup' });
    });

    test("deleting a user ends their sessions and tokens at once and removes their grants; it is audited", async () => {
      await createNodes(s, 'del');
      const session = await mkUser('del-bob');
      const apiToken = (await s.call('POST', '/api/v1/tokens', { name: 'ci' }, { token: session })).body.token as string;
      const gid = await grant({ user: 'del-bob', role: 'ops', nodePath: 'del' });
      assert.equal((await s.call('POST', '/api/v1/groups', { name: 'del-team', members: ['del-bob'] })).status, 201);
      assert.equal(await status(apiToken, '/api/v1/nodes/del'), 200);

      refused(await s.call('DELETE', '/api/v1/users/del-bob', undefined, { token: session }), 403, 'forbidden');
      assert.equal((await s.call('DELETE', '/api/v1/users/del-bob')).status, 204);
      assert.equal(await status(session, '/api/v1/auth/me'), 401);
      assert.equal(await status(apiToken, '/api/v1/auth/me'), 401);
      assert.ok(!(await s.call('GET', '/api/v1/grants')).body.items.some((g: { id: number }) => g.id === gid));
      assert.deepEqual((await s.call('GET', '/api/v1/groups')).body.items.find((g: { name: string }) => g.name === 'del-team').members, []);
      assert.ok(!(await s.call('GET', '/api/v1/users')).body.items.some((u: { username: string }) => u.username === 'del-bob'));
      const audit = await lastAudit('user.delete');
      assert.equal(audit.target, 'del-bob');
      assert.deepEqual(audit.before.grants.map((g: { id: number; role: string }) => [g.id, g.role]), [[gid, 'ops']]);
      assert.ok(!JSON.stringify(audit).includes('scrypt$'));

      refused(await s.call('DELETE', '/api/v1/users/del-bob'), 404, 'not_found');
      refused(await s.call('DELETE', '/api/v1/users/admin'), 409, 'conflict', /your own account/);
      const again = await mkUser('del-bob');
      assert.equal(await status(again, '/api/v1/nodes/del'), 404, 'a new user of the same name inherits nothing');
    });

    test('deleting a superuser who made grants keeps the grants they made', async () => {
      await createNodes(s, 'boss');
      assert.equal((await s.call('POST', '/api/v1/users', { username: 'del-boss', password: 'pw-of-del-boss', superuser: true })).status, 201);
      const boss = await s.login('del-boss', 'pw-of-del-boss');
      const viewer = await mkUser('del-viewer');
      const made = await s.call('POST', '/api/v1/grants', { user: 'del-viewer', role: 'viewer', nodePath: 'boss' }, { token: boss });
      assert.equal(made.status, 201);
      assert.equal((await s.call('DELETE', '/api/v1/users/del-boss')).status, 204);
      assert.equal(await status(viewer, '/api/v1/nodes/boss'), 200);
    });

    test('a group holding grants is deleted only with force, which revokes them; its members stay', async () => {
      await createNodes(s, 'grp');
      const carl = await mkUser('grp-carl');
      assert.equal((await s.call('POST', '/api/v1/groups', { name: 'grp-sre', members: ['grp-carl'] })).status, 201);
      const gid = await grant({ group: 'grp-sre', role: 'viewer', nodePath: 'grp' });
      const r = await s.call('DELETE', '/api/v1/groups/grp-sre');
      refused(r, 409, 'conflict', new RegExp(`${gid} \\(viewer on grp\\)`));
      assert.deepEqual(r.body.grants.map((g: { id: number }) => g.id), [gid]);
      assert.equal(await status(carl, '/api/v1/nodes/grp'), 200, 'the refusal changed nothing');
      refused(await s.call('DELETE', '/api/v1/groups/grp-sre?force=true', undefined, { token: carl }), 403, 'forbidden');

      assert.equal((await s.call('DELETE', '/api/v1/groups/grp-sre?force=true')).status, 204);
      assert.equal(await status(carl, '/api/v1/nodes/grp'), 404, 'the group grant went with the group');
      assert.equal(await status(carl, '/api/v1/auth/me'), 200);
      assert.deepEqual((await s.call('GET', '/api/v1/auth/me', undefined, { token: carl })).body.groups, []);
      assert.equal((await lastAudit('group.delete')).before.members[0], 'grp-carl');
      refused(await s.call('DELETE', '/api/v1/groups/grp-sre'), 404, 'not_found');
    });

    test('a role still granted is deleted only with force; built-in roles are not deleted', async () => {
      await createNodes(s, 'rl');
      const dora = await mkUser('rl-dora');
      assert.equal((await s.call('POST', '/api/v1/roles', { name: 'rl-reader', operations: ['tree.read'] })).status, 201);
      const gid = await grant({ user: 'rl-dora', role: 'rl-reader', nodePath: 'rl' });
      refused(await s.call('DELETE', '/api/v1/roles/viewer'), 409, 'conflict', /built in/);
      const r = await s.call('DELETE', '/api/v1/roles/rl-reader');
      refused(r, 409, 'conflict', new RegExp(`${gid} \\(rl-dora on rl\\)`));
      assert.equal(await status(dora, '/api/v1/nodes/rl'), 200);
      refused(await s.call('DELETE', '/api/v1/roles/rl-reader', undefined, { token: dora }), 403, 'forbidden');

      assert.equal((await s.call('DELETE', '/api/v1/roles/rl-reader?force=true')).status, 204);
      assert.equal(await status(dora, '/api/v1/nodes/rl'), 404);
      assert.ok(!(await s.call('GET', '/api/v1/roles')).body.items.some((x: { name: string }) => x.name === 'rl-reader'));
      assert.deepEqual((await lastAudit('role.delete')).before.grants.map((g: { id: number }) => g.id), [gid]);
      refused(await s.call('DELETE', '/api/v1/roles/rl-reader'), 404, 'not_found');
    });

    test('PATCH /roles changes what every holder may do at once; built-in operations are fixed', async () => {
      await createNodes(s, 'ed');
      const eve = await mkUser('ed-eve');
      assert.equal((await s.call('POST', '/api/v1/roles', { name: 'ed-role', operations: ['tree.read'] })).status, 201);
      await grant({ user: 'ed-eve', role: 'ed-role', nodePath: 'ed' });
      const child = { parentPath: 'ed', name: 'kid' };
      refused(await s.call('POST', '/api/v1/nodes', child, { token: eve }), 403, 'forbidden');

      const r = await s.call('PATCH', '/api/v1/roles/ed-role', { operations: ['tree.read', 'tree.write'], description: 'may shape ed' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual([r.body.operations, r.body.description], [['tree.read', 'tree.write'], 'may shape ed']);
      assert.equal((await s.call('POST', '/api/v1/nodes', child, { token: eve })).status, 201);
      const audit = await lastAudit('role.update');
      assert.deepEqual([audit.before.operations, audit.after.operations], [['tree.read'], ['tree.read', 'tree.write']]);

      refused(await s.call('PATCH', '/api/v1/roles/ed-role', { operations: ['tree.fly'] }), 400, 'validation_failed');
      refused(await s.call('PATCH', '/api/v1/roles/viewer', { operations: ['tree.read', 'tree.write'] }), 409, 'conflict', /built in/);
      assert.equal((await s.call('PATCH', '/api/v1/roles/viewer', { description: 'look, do not touch' })).status, 200);
      refused(await s.call('PATCH', '/api/v1/roles/ed-role', { description: 'mine now' }, { token: eve }), 403, 'forbidden');
      refused(await s.call('PATCH', '/api/v1/roles/no-such-role', { description: 'x' }), 404, 'not_found');
    });
  });
}
