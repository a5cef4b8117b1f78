import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkNodes, startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { newEd25519 } from './keys.ts';

const key = (comment: string) => `${newEd25519('x').publicKey} ${comment}`;
const wait = async (what: string, check: () => Promise<boolean>) => {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
};

for (const backend of testBackends()) {
  describe(`SSH access from grants (${backend.name})`, () => {
    let s: TestServer;
    const uidBase = 50_000;
    before(async () => {
      s = await startTestServer(backend, { ssh: { uidBase, sharedUidBase: 40_000 } });
      await mkNodes(s, 'sa.pay.web');
      await mkNodes(s, 'sa.other');
      for (const [host, node] of [['sa-web-1', 'sa.pay.web'], ['sa-other-1', 'sa.other']] as const) {
        assert.equal((await s.call('POST', '/api/v1/machines', { hostname: host, ips: ['198.51.100.7'] })).status, 201);
        assert.ok((await s.call('PUT', `/api/v1/nodes/${node}/machines/${host}`)).status < 300);
      }
    });
    after(() => s.close());

    const doc = async (host: string) => (await s.call('GET', `/api/v1/machines/${host}/ssh`)).body;
    const account = async (host: string, name: string) => (await doc(host)).accounts.find((a: { name: string }) => a.name === name);
    const user = async (username: string, sshKeys = [key(`${username}@laptop`)]) => {
      const r = await s.call('POST', '/api/v1/users', { username, sshKeys, password: 'password-1234' });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body.id as number;
    };
    const grant = async (body: Record<string, unknown>) => {
      const r = await s.call('POST', '/api/v1/grants', body);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body.id as number;
    };

    test('machine.login on an ancestor gives the user an account with a stable uid, keys without comments, no sudo', async () => {
      const id = await user('sa-dev');
      await grant({ user: 'sa-dev', role: 'developer', nodePath: 'sa.pay' });
      const a = await account('sa-web-1', 'sa-dev');
      assert.equal(a.uid, uidBase + id);
      assert.equal(a.sudo, false);
      assert.equal(a.keys.length, 1);
      assert.equal(a.keys[0].key.split(' ').length, 2, 'the comment never reaches sshd');
      assert.equal(a.keys[0].user, 'sa-dev');
      assert.equal(await account('sa-other-1', 'sa-dev'), undefined, 'not on machines elsewhere');
      const view = (await s.call('GET', '/api/v1/nodes/sa.pay.web/ssh/access')).body;
      const v = view.users.find((u: { username: string }) => u.username === 'sa-dev');
      assert.deepEqual([v.account, v.sudo, v.grants[0].node, v.grants[0].role], ['sa-dev', false, 'sa.pay', 'developer']);
    });

    test('sudo needs machine.sudo, and a login: a role with sudo alone lets no one in', async () => {
      await user('sa-ops');
      await grant({ user: 'sa-ops', role: 'ops', nodePath: 'sa.pay.web' });
      assert.equal((await account('sa-web-1', 'sa-ops')).sudo, true);
      assert.equal((await s.call('POST', '/api/v1/roles', { name: 'sa-sudo-only', operations: ['machine.sudo'] })).status, 201);
      await user('sa-half');
      await grant({ user: 'sa-half', role: 'sa-sudo-only', nodePath: 'sa.pay' });
      assert.equal(await account('sa-web-1', 'sa-half'), undefined);
    });

    test('a group grant reaches its members; a key change, a disable and a removal from the group take effect', async () => {
      await user('sa-g1');
      assert.equal((await s.call('POST', '/api/v1/groups', { name: 'sa-team' })).status, 201);
      assert.ok((await s.call('PUT', '/api/v1/groups/sa-team/members', { members: ['sa-g1'] })).status < 300);
      await grant({ group: 'sa-team', role: 'developer', nodePath: 'sa' });
      assert.ok(await account('sa-other-1', 'sa-g1'));
      const fresh = key('new');
      assert.equal((await s.call('PATCH', '/api/v1/users/sa-g1', { sshKeys: [fresh] })).status, 200);
      await wait('the new key', async () => (await account('sa-other-1', 'sa-g1'))?.keys[0].key === fresh.split(' ').slice(0, 2).join(' '));
      assert.equal((await s.call('PATCH', '/api/v1/users/sa-g1', { disabled: true })).status, 200);
      await wait('disabled user gone', async () => (await account('sa-other-1', 'sa-g1')) === undefined);
      assert.equal((await s.call('PATCH', '/api/v1/users/sa-g1', { disabled: false })).status, 200);
      await wait('back', async () => (await account('sa-other-1', 'sa-g1')) !== undefined);
      assert.ok((await s.call('PUT', '/api/v1/groups/sa-team/members', { members: [] })).status < 300);
      assert.equal(await account('sa-other-1', 'sa-g1'), undefined);
    });

    test('an expiring grant stops opening the machine when it expires', async () => {
      await user('sa-temp');
      await grant({ user: 'sa-temp', role: 'developer', nodePath: 'sa.other', expiresAt: new Date(Date.now() + 1500).toISOString() });
      assert.ok(await account('sa-other-1', 'sa-temp'));
      await wait('expired', async () => (await account('sa-other-1', 'sa-temp')) === undefined);
    });

    test('a shared account is inherited below its node; it has sudo only when everyone landing in it has', async () => {
      const put = await s.call('PUT', '/api/v1/nodes/sa.pay/ssh/settings', { loginAs: 'sa-work', cacheSeconds: 3600 });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const view = (await s.call('GET', '/api/v1/nodes/sa.pay.web/ssh/settings')).body;
      assert.deepEqual(view.effective, { loginAs: 'sa-work', loginAsFrom: 'sa.pay', cacheSeconds: 3600, cacheFrom: 'sa.pay' });
      const d = await doc('sa-web-1');
      assert.equal(d.cacheSeconds, 3600);
      const work = d.accounts.find((a: { name: string }) => a.name === 'sa-work');
      assert.ok(work.shared && work.uid > 40_000 && work.uid < 41_000);
      assert.deepEqual(work.keys.map((k: { user: string }) => k.user).sort(), ['sa-dev', 'sa-ops']);
      assert.equal(work.sudo, false, 'sa-dev has no sudo');
      assert.equal(d.accounts.find((a: { name: string }) => a.name === 'sa-dev'), undefined);
      assert.equal((await s.call('PUT', '/api/v1/nodes/sa.pay/ssh/settings', { loginAs: null })).status, 200);
      assert.ok(await account('sa-web-1', 'sa-dev'));
    });

    test('bad settings are refused with 400 and change nothing', async () => {
      for (const body of [{ loginAs: 'root' }, { loginAs: 'a b' }, { loginAs: '-oProxyCommand' }, { cacheSeconds: 1 }, { loginAs: 'x', extra: 1 }]) {
        const r = await s.call('PUT', '/api/v1/nodes/sa.other/ssh/settings', body);
        assert.equal(r.status, 400, JSON.stringify(body));
      }
      assert.deepEqual((await s.call('GET', '/api/v1/nodes/sa.other/ssh/settings')).body.own, { loginAs: null, cacheSeconds: null });
      assert.equal((await s.call('DELETE', '/api/v1/nodes/sa.other/ssh/break-glass/999')).status, 404);
    });

    test('break-glass keys: shown once, in every machine document below, revocable', async () => {
      const r = await s.call('POST', '/api/v1/nodes/sa/ssh/break-glass');
      assert.equal(r.status, 201);
      assert.match(r.body.privateKey, /^-----BEGIN OPENSSH PRIVATE KEY-----/);
      const settings = (await s.call('GET', '/api/v1/nodes/sa/ssh/settings')).body;
      assert.equal(JSON.stringify(settings).includes('PRIVATE'), false);
      for (const host of ['sa-web-1', 'sa-other-1']) assert.deepEqual((await doc(host)).breakGlass.map((g: { fingerprint: string }) => g.fingerprint), [r.body.fingerprint]);
      assert.equal((await s.call('DELETE', `/api/v1/nodes/sa/ssh/break-glass/${r.body.id}`)).status, 204);
      assert.deepEqual((await doc('sa-web-1')).breakGlass, []);
    });

    test('who may see and change SSH access is decided by grants on the node', async () => {
      await user('sa-viewer');
      await grant({ user: 'sa-viewer', role: 'viewer', nodePath: 'sa.pay' });
      const token = await s.login('sa-viewer', 'password-1234');
      const as = (method: string, url: string, body?: unknown) => s.call(method, url, body, { token });
      assert.equal((await as('GET', '/api/v1/nodes/sa.pay/ssh/access')).status, 200);
      assert.equal((await as('PUT', '/api/v1/nodes/sa.pay/ssh/settings', { cacheSeconds: 60 })).status, 403);
      assert.equal((await as('POST', '/api/v1/nodes/sa.pay/ssh/break-glass')).status, 403);
      assert.equal((await as('GET', '/api/v1/nodes/sa.other/ssh/access')).status, 404);
      assert.equal((await as('GET', '/api/v1/ssh/logins?user=sa-dev')).status, 403);
      assert.equal((await as('GET', '/api/v1/ssh/logins?user=sa-viewer')).status, 200);
      assert.equal((await as('GET', '/api/v1/machines/sa-other-1/ssh')).status, 404);
    });
  });
}
