/** Grants on deleted (trashed) nodes: listed with their last path, revocable, and live again on restore. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { rows } from '../db/connection.ts';
import { createNodes, startTestServer, testBackends, type Reply, type TestServer } from '../testing/index.ts';

interface Listed {
  id: number;
  nodePath: string;
  subject: string;
  trashed: boolean;
}

for (const backend of testBackends()) {
  describe(`grants on trashed nodes (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    async function user(username: string): Promise<string> {
      const made = await s.call('POST', '/api/v1/users', { username, password: `pw-of-${username}` });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      return s.login(username, `pw-of-${username}`);
    }
    const nodes = (...paths: string[]) => createNodes(s, ...paths);
    async function grant(subject: string, role: string, nodePath: string): Promise<number> {
      const r = await s.call('POST', '/api/v1/grants', { user: subject, role, nodePath });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body.id as number;
    }
    async function trash(path: string): Promise<number> {
      const id = s.services.tree.node(path).id;
      assert.equal((await s.call('DELETE', `/api/v1/nodes/${path}`)).status, 204);
      return id;
    }
    async function listed(path: string, token?: string): Promise<Listed[]> {
      const r = await s.call('GET', `/api/v1/nodes/${path}/grants`, undefined, token ? { token } : {});
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.items as Listed[];
    }
    const revoke = (id: number, token?: string) => s.call('DELETE', `/api/v1/grants/${id}`, undefined, token ? { token } : {});
    function refused(r: Reply, status: 403 | 404): void {
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.code, status === 403 ? 'forbidden' : 'not_found');
    }

    test('whoever may revoke on the nearest live ancestor may revoke a grant on a trashed node', async () => {
      await nodes('gt', 'gt.team', 'gt.team.app', 'gt.other');
      await user('gt-dev');
      const lead = await user('gt-lead');
      const reader = await user('gt-reader');
      const outsider = await user('gt-outsider');
      const local = await user('gt-local');
      await grant('gt-lead', 'admin', 'gt.team');
      await grant('gt-reader', 'viewer', 'gt.team');
      await grant('gt-outsider', 'admin', 'gt.other');
      await grant('gt-local', 'admin', 'gt.team.app');
      const g = await grant('gt-dev', 'viewer', 'gt.team.app');
      await trash('gt.team.app');

      refused(await revoke(g, outsider), 404);
      refused(await revoke(g, reader), 403);
      // Rights held on the deleted node itself went to the trash with it.
      refused(await revoke(g, local), 404);
      assert.ok((await listed('gt.team')).some((x) => x.id === g), 'refusals left the grant in place');
      assert.equal((await revoke(g, lead)).status, 204);
      assert.ok(!(await listed('gt.team')).some((x) => x.id === g));
      assert.ok(!s.services.auth.acl.grants().some((x) => x.id === g), 'gone from the permission model too');
      refused(await revoke(g, lead), 404);

      const [audit] = await rows<{ node_path: string }>(s.database.db, sql`SELECT node_path FROM audit_log WHERE operation = 'grant.revoke' AND target = ${String(g)}`);
      assert.equal(audit?.node_path, 'gt.team.app', 'the audit entry names the node by its last path');
    });

    test('the nearest live ancestor is found above several trashed levels', async () => {
      await nodes('deep', 'deep.a', 'deep.a.b', 'deep.a.b.c');
      const lead = await user('deep-lead');
      await user('deep-dev');
      await grant('deep-lead', 'admin', 'deep');
      const g = await grant('deep-dev', 'viewer', 'deep.a.b.c');
      await trash('deep.a.b.c');
      await trash('deep.a.b');
      await trash('deep.a');
      const shown = (await listed('deep', lead)).find((x) => x.id === g);
      assert.deepEqual(shown && { nodePath: shown.nodePath, trashed: shown.trashed }, { nodePath: 'deep.a.b.c', trashed: true });
      assert.equal((await revoke(g, lead)).status, 204);
    });

    test('the grants listing shows a trashed node by its last path with trashed: true, only under its live ancestors', async () => {
      await nodes('ls', 'ls.team', 'ls.team.app', 'ls.side');
      await user('ls-dev');
      const live = await grant('ls-dev', 'viewer', 'ls.team');
      const gone = await grant('ls-dev', 'viewer', 'ls.team.app');
      await trash('ls.team.app');
      for (const path of ['ls', 'ls.team']) {
        const items = await listed(path);
        assert.deepEqual(
          items.filter((x) => x.subject === 'ls-dev').map((x) => ({ id: x.id, nodePath: x.nodePath, trashed: x.trashed })),
          [
            { id: live, nodePath: 'ls.team', trashed: false },
            { id: gone, nodePath: 'ls.team.app', trashed: true },
          ],
          path,
        );
      }
      assert.ok(!(await listed('ls.side')).some((x) => x.subject === 'ls-dev'), 'a sibling subtree does not list it');
    });

    test("a restored node's grants apply again and list as live", async () => {
      await nodes('rs', 'rs.app');
      const dev = await user('rs-dev');
      const g = await grant('rs-dev', 'viewer', 'rs.app');
      assert.equal((await s.call('GET', '/api/v1/nodes/rs.app', undefined, { token: dev })).status, 200);
      const id = await trash('rs.app');
      refused(await s.call('GET', '/api/v1/nodes/rs.app', undefined, { token: dev }), 404);
      assert.equal((await s.call('POST', `/api/v1/trash/${id}/restore`)).status, 200);
      assert.equal((await s.call('GET', '/api/v1/nodes/rs.app', undefined, { token: dev })).status, 200);
      const shown = (await listed('rs.app')).find((x) => x.id === g);
      assert.deepEqual(shown && { nodePath: shown.nodePath, trashed: shown.trashed }, { nodePath: 'rs.app', trashed: false });
    });

    test('a grant on a trashed top-level node: superusers list it with ?trashed=true and revoke it', async () => {
      await nodes('toplvl', 'toplive');
      const dev = await user('top-dev');
      const g = await grant('top-dev', 'viewer', 'toplvl');
      const keep = await grant('top-dev', 'viewer', 'toplive');
      await trash('toplvl');
      const r = await s.call('GET', '/api/v1/grants?trashed=true');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const items = r.body.items as Listed[];
      assert.ok(items.every((x) => x.trashed), 'only grants on trashed nodes');
      assert.deepEqual(items.filter((x) => x.subject === 'top-dev').map((x) => ({ id: x.id, nodePath: x.nodePath })), [{ id: g, nodePath: 'toplvl' }]);
      const all = (await s.call('GET', '/api/v1/grants')).body.items as Listed[];
      assert.ok(all.some((x) => x.id === keep && !x.trashed) && all.some((x) => x.id === g && x.trashed));
      refused(await s.call('GET', '/api/v1/grants?trashed=true', undefined, { token: dev }), 403);
      assert.equal((await s.call('GET', '/api/v1/grants?trashed=maybe')).status, 400);
      refused(await revoke(g, dev), 404);
      assert.equal((await revoke(g)).status, 204);
    });
  });
}
