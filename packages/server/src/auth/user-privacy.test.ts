/** Listing users: a non-superuser sees e-mail and superuser flags only of the people inside their nodes. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createNodes, startTestServer, testBackends, type TestServer } from '../testing/index.ts';

interface Listed {
  username: string;
  email: string | null;
  superuser: boolean | null;
}

for (const backend of testBackends()) {
  describe(`user listing privacy (${backend.name})`, () => {
    let s: TestServer;
    let alice: string;
    before(async () => {
      s = await startTestServer(backend);
      await createNodes(s, 'corp', 'corp.pay', 'corp.pay.api', 'corp.find', 'lab');
      const users: [string, boolean][] = [['alice', false], ['bob', false], ['carol', false], ['dan', true], ['erin', false], ['fay', false]];
      for (const [u, superuser] of users) {
        const r = await s.call('POST', '/api/v1/users', { username: u, password: `pw-of-${u}`, email: `${u}@example.com`, superuser });
        assert.equal(r.status, 201);
      }
      assert.equal((await s.call('POST', '/api/v1/groups', { name: 'pay-team', members: ['erin'] })).status, 201);
      const grants = [
        { user: 'alice', role: 'developer', nodePath: 'corp.pay' },
        { user: 'bob', role: 'admin', nodePath: 'corp.find' },
        { user: 'carol', role: 'viewer', nodePath: 'corp' },
        { group: 'pay-team', role: 'viewer', nodePath: 'corp.pay.api' },
        { user: 'fay', role: 'viewer', nodePath: 'lab', expiresAt: new Date(Date.now() + 3600_000).toISOString() },
      ];
      for (const g of grants) assert.equal((await s.call('POST', '/api/v1/grants', g)).status, 201);
      alice = await s.login('alice', 'pw-of-alice');
    });
    after(() => s.close());

    const listAs = async (token: string) => {
      const r = await s.call('GET', '/api/v1/users', undefined, { token });
      assert.equal(r.status, 200);
      return new Map((r.body.items as Listed[]).map((u) => [u.username, u]));
    };

    test('people with a grant on, below or above your nodes show in full; the others without e-mail or superuser flag', async () => {
      const seen = await listAs(alice);
      for (const u of ['alice', 'carol', 'erin']) assert.equal(seen.get(u)?.email, `${u}@example.com`, `${u} is inside alice's nodes`);
      assert.equal(seen.get('carol')?.superuser, false);
      for (const u of ['bob', 'dan', 'fay', 'admin']) {
        assert.deepEqual([seen.get(u)?.email, seen.get(u)?.superuser], [null, null], `${u} is outside alice's nodes`);
      }
    });

    test('a superuser sees everyone in full', async () => {
      const seen = await listAs(s.adminToken);
      assert.equal(seen.get('bob')?.email, 'bob@example.com');
      assert.equal(seen.get('dan')?.superuser, true);
    });

    test("from another team's node the same people split differently", async () => {
      const seen = await listAs(await s.login('bob', 'pw-of-bob'));
      assert.equal(seen.get('bob')?.email, 'bob@example.com', 'you always see yourself');
      assert.equal(seen.get('carol')?.email, 'carol@example.com', 'a grant above your node counts');
      for (const u of ['alice', 'erin', 'dan']) assert.equal(seen.get(u)?.email, null, `${u} is outside bob's nodes`);
    });
  });
}
