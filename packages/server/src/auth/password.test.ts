/** Password changes: one's own needs the current password; what a change ends; how it is audited. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { rows } from '../db/connection.ts';
import { startTestServer, testBackends, type Reply, type TestServer } from '../testing/index.ts';

for (const backend of testBackends()) {
  describe(`password changes (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    const pw = (name: string) => `password-of-${name}`;
    async function mkUser(username: string): Promise<void> {
      assert.equal((await s.call('POST', '/api/v1/users', { username, password: pw(username) })).status, 201);
    }
    const loginStatus = async (username: string, password: string) => (await s.call('POST', '/api/v1/auth/login', { username, password }, { token: null })).status;
    const me = async (token: string) => (await s.call('GET', '/api/v1/auth/me', undefined, { token })).status;
    function refused(r: Reply, status: number, code: string, field?: string): void {
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.code, code);
      if (field) assert.ok(r.body.issues.some((i: { path: string[] }) => i.path.includes(field)), JSON.stringify(r.body.issues));
    }

    test('changing your own password needs the current one: missing or wrong is a 400 and changes nothing', async () => {
      await mkUser('pw-ann');
      const ann = await s.login('pw-ann', pw('pw-ann'));
      refused(await s.call('PATCH', '/api/v1/users/pw-ann', { password: 'stolen-session-pw' }, { token: ann }), 400, 'validation_failed', 'currentPassword');
      refused(await s.call('PATCH', '/api/v1/users/pw-ann', { password: 'stolen-session-pw', currentPassword: 'a-guess' }, { token: ann }), 400, 'validation_failed', 'currentPassword');
      assert.equal(await loginStatus('pw-ann', 'stolen-session-pw'), 401, 'the password did not change');
      assert.equal(await loginStatus('pw-ann', pw('pw-ann')), 200);
      refused(await s.call('PATCH', '/api/v1/users/pw-ann', { displayName: 'Ann', currentPassword: pw('pw-ann') }, { token: ann }), 400, 'validation_failed');

      const ok = await s.call('PATCH', '/api/v1/users/pw-ann', { password: 'anns-new-password', currentPassword: pw('pw-ann') }, { token: ann });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(await loginStatus('pw-ann', 'anns-new-password'), 200);
      assert.equal(await loginStatus('pw-ann', pw('pw-ann')), 401);
    });

    test('a superuser changing their own password needs the current one too', async () => {
      refused(await s.call('PATCH', '/api/v1/users/admin', { password: 'hijacked-admin-pw' }), 400, 'validation_failed', 'currentPassword');
    });

    test('wrong current passwords count against the login throttle', async () => {
      await mkUser('pw-guessed');
      const token = await s.login('pw-guessed', pw('pw-guessed'));
      for (let i = 1; i <= 10; i++) {
        refused(await s.call('PATCH', '/api/v1/users/pw-guessed', { password: 'new-password-1', currentPassword: `guess-${i}` }, { token }), 400, 'validation_failed');
      }
      const limited = await s.call('PATCH', '/api/v1/users/pw-guessed', { password: 'new-password-1', currentPassword: pw('pw-guessed') }, { token });
      refused(limited, 429, 'rate_limited');
      assert.ok(Number(limited.headers['retry-after']) > 0);
    });

    test('your own change ends your other sessions but not this one; tokens stay unless revokeTokens', async () => {
      await mkUser('pw-bo');
      const here = await s.login('pw-bo', pw('pw-bo'));
      const elsewhere = await s.login('pw-bo', pw('pw-bo'));
      const apiToken = (await s.call('POST', '/api/v1/tokens', { name: 'ci' }, { token: here })).body.token as string;
      assert.equal((await s.call('PATCH', '/api/v1/users/pw-bo', { password: 'bos-second-pw', currentPassword: pw('pw-bo') }, { token: here })).status, 200);
      assert.equal(await me(here), 200, 'the session the change came on lives on');
      assert.equal(await me(elsewhere), 401, 'the other session ended');
      assert.equal(await me(apiToken), 200, 'tokens stay by default on your own change');

      const other = await s.login('pw-bo', 'bos-second-pw');
      const r = await s.call('PATCH', '/api/v1/users/pw-bo', { password: 'bos-third-pw', currentPassword: 'bos-second-pw', revokeTokens: true }, { token: here });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(await me(apiToken), 401, 'revokeTokens: true revoked the token');
      assert.equal(await me(other), 401);
      assert.equal(await me(here), 200);
    });

    test("a superuser resets another user's password without it, ending their sessions and tokens", async () => {
      await mkUser('pw-cy');
      const session = await s.login('pw-cy', pw('pw-cy'));
      const apiToken = (await s.call('POST', '/api/v1/tokens', { name: 'ci' }, { token: session })).body.token as string;
      const r = await s.call('PATCH', '/api/v1/users/pw-cy', { password: 'reset-by-admin' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(await me(session), 401);
      assert.equal(await me(apiToken), 401);
      assert.equal(await loginStatus('pw-cy', 'reset-by-admin'), 200);
      refused(await s.call('PATCH', '/api/v1/users/pw-cy', { revokeTokens: true }), 400, 'validation_failed');
    });

    test('a password change is audited as user.password, and no audit entry holds a hash or a secret', async () => {
      await mkUser('pw-di');
      const di = await s.login('pw-di', pw('pw-di'));
      const secret = (await s.call('POST', '/api/v1/tokens', { name: 'ci' }, { token: di })).body.token as string;
      assert.equal((await s.call('PATCH', '/api/v1/users/pw-di', { password: 'dis-new-password', currentPassword: pw('pw-di'), revokeTokens: true }, { token: di })).status, 200);
      assert.equal((await s.call('PATCH', '/api/v1/users/pw-di', { password: 'dis-reset-password', displayName: 'Di' })).status, 200);
      const audit = await s.call('GET', '/api/v1/audit?operation=user.password');
      const mine = audit.body.items.filter((e: { target: string }) => e.target === 'pw-di');
      assert.deepEqual(
        mine.map((e: { actor: string; after: unknown }) => [e.actor, e.after]),
        [
          ['admin', { by: 'reset', sessionsEnded: 1, tokensRevoked: 0 }],
          ['pw-di', { by: 'self', sessionsEnded: 0, tokensRevoked: 1 }],
        ],
      );
      const update = (await s.call('GET', '/api/v1/audit?operation=user.update')).body.items.find((e: { target: string }) => e.target === 'pw-di');
      assert.equal(update.after.displayName, 'Di');
      for (const at of [update.before.createdAt, update.after.updatedAt]) assert.match(at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const all = await rows<{ t: string }>(s.database.db, sql`SELECT coalesce(before::text, '') || coalesce(after::text, '') AS t FROM audit_log`);
      for (const { t } of all) {
        assert.ok(!t.includes('scrypt$'), `a password hash in the audit log: ${t.slice(0, 200)}`);
        for (const word of ['dis-new-password', 'dis-reset-password', pw('pw-di'), secret]) assert.ok(!t.includes(word), `a secret in the audit log: ${t.slice(0, 200)}`);
      }
    });
  });
}
