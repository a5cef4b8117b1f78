/** Accounts end to end: login, rate limit, cookie sessions with CSRF, API tokens, password storage. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { rows } from '../db/connection.ts';
import { startTestServer, testBackends, type Reply, type TestServer } from '../testing/index.ts';

const PROBLEM = 'application/problem+json; charset=utf-8';

for (const backend of testBackends()) {
  describe(`accounts and sessions (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    const password = (name: string) => `password-of-${name}`;
    async function mkUser(username: string, extra: object = {}): Promise<void> {
      const r = await s.call('POST', '/api/v1/users', { username, password: password(username), ...extra });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    const login = (username: string, pw = password(username)) => s.call('POST', '/api/v1/auth/login', { username, password: pw }, { token: null });
    const count = async (table: string) => (await rows<{ n: number }>(s.database.db, sql`SELECT count(*)::int AS n FROM ${sql.identifier(table)}`))[0]?.n;
    function isProblem(r: Reply, status: number, code: string): void {
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.headers['content-type'], PROBLEM);
      assert.equal(r.body.code, code);
    }

    test('login answers a session token; a wrong password, an unknown user or a disabled account answers 401', async () => {
      await mkUser('alice');
      const ok = await login('alice');
      assert.equal(ok.status, 200);
      assert.match(ok.body.token, /^cns_/);
      assert.equal(ok.body.user.username, 'alice');
      assert.equal((await s.call('GET', '/api/v1/auth/me', undefined, { token: ok.body.token })).body.username, 'alice');

      const wrong = await login('alice', 'not-her-password');
      isProblem(wrong, 401, 'unauthenticated');
      const nobody = await login('nobody-here', 'whatever-pw');
      isProblem(nobody, 401, 'unauthenticated');
      assert.equal(nobody.body.detail, wrong.body.detail, 'an unknown user looks the same as a wrong password');

      assert.equal((await s.call('PATCH', '/api/v1/users/alice', { disabled: true })).status, 200);
      isProblem(await login('alice'), 401, 'unauthenticated');
      isProblem(await s.call('GET', '/api/v1/auth/me', undefined, { token: ok.body.token }), 401, 'unauthenticated');
      assert.equal((await s.call('PATCH', '/api/v1/users/alice', { disabled: false })).status, 200);
      assert.equal((await login('alice')).status, 200);
    });

    test('login is rate-limited per user: the 11th bad attempt in a minute answers 429 rate_limited', async () => {
      await mkUser('rl-victim');
      await mkUser('rl-bystander');
      for (let i = 1; i <= 10; i++) isProblem(await login('rl-victim', `guess-${i}-guess`), 401, 'unauthenticated');
      const limited = await login('rl-victim', 'guess-11-guess');
      isProblem(limited, 429, 'rate_limited');
      assert.ok(Number(limited.headers['retry-after']) > 0, 'says when to retry');
      isProblem(await login('rl-victim'), 429, 'rate_limited');
      assert.equal((await login('rl-bystander')).status, 200, 'another user from the same address still logs in');
    });

    test('a session cookie authenticates; a cookie write needs X-CSRF-Token, a Bearer write does not', async () => {
      await mkUser('bob');
      const res = await login('bob');
      const setCookie = String(res.headers['set-cookie']);
      assert.match(setCookie, /^canopy_session=cns_[^;]+;/);
      assert.match(setCookie, /HttpOnly/);
      assert.match(setCookie, /SameSite=Strict/);
      const cookie = setCookie.split(';')[0] as string;
      const { csrfToken, token } = res.body as { csrfToken: string; token: string };
      const asCookie = (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => s.call(method, url, body, { token: null, headers: { cookie, ...headers } });

      assert.equal((await asCookie('GET', '/api/v1/auth/me')).body.username, 'bob');
      const tokens = await count('api_tokens');
      isProblem(await asCookie('POST', '/api/v1/tokens', { name: 'no-csrf' }), 403, 'forbidden');
      isProblem(await asCookie('POST', '/api/v1/tokens', { name: 'bad-csrf' }, { 'x-csrf-token': 'forged' }), 403, 'forbidden');
      assert.equal(await count('api_tokens'), tokens, 'a refused cookie write changed nothing');
      assert.equal((await asCookie('POST', '/api/v1/tokens', { name: 'csrf-ok' }, { 'x-csrf-token': csrfToken })).status, 201);
      assert.equal((await s.call('POST', '/api/v1/tokens', { name: 'bearer' }, { token })).status, 201, 'Bearer needs no CSRF token');

      const apiToken = (await s.call('POST', '/api/v1/tokens', { name: 'in-a-cookie' }, { token })).body.token as string;
      const tokenCookie = { token: null, headers: { cookie: `canopy_session=${apiToken}`, 'x-csrf-token': '' } };
      isProblem(await s.call('POST', '/api/v1/tokens', { name: 'via-token-cookie' }, tokenCookie), 403, 'forbidden');

      assert.equal((await asCookie('POST', '/api/v1/auth/logout', undefined, { 'x-csrf-token': csrfToken })).status, 204);
      isProblem(await asCookie('GET', '/api/v1/auth/me'), 401, 'unauthenticated');
    });

    test('an API token is shown once, stored hashed, works as Bearer, and answers 401 once revoked', async () => {
      await mkUser('carol');
      await mkUser('mallory');
      const carol = (await login('carol')).body.token as string;
      const made = await s.call('POST', '/api/v1/tokens', { name: 'ci', expiresInDays: 30 }, { token: carol });
      assert.equal(made.status, 201);
      const secret = made.body.token as string;
      assert.match(secret, /^cnp_.{40,}$/);
      assert.ok(Date.parse(made.body.expiresAt) > Date.now());

      const listed = await s.call('GET', '/api/v1/tokens', undefined, { token: carol });
      assert.ok(!JSON.stringify(listed.body).includes(secret), 'the list never shows the secret again');
      assert.equal(listed.body.items.find((t: { id: number }) => t.id === made.body.id)?.prefix, secret.slice(0, 8));
      const stored = await rows<Record<string, unknown>>(s.database.db, sql`SELECT * FROM api_tokens WHERE id = ${made.body.id}`);
      assert.ok(!JSON.stringify(stored).includes(secret), 'the database holds only a hash');
      const audit = await rows<{ t: string }>(s.database.db, sql`SELECT after::text AS t FROM audit_log WHERE operation = 'token.create'`);
      assert.ok(!audit.some((a) => a.t.includes(secret)), 'the audit log holds no secret');

      assert.equal((await s.call('GET', '/api/v1/auth/me', undefined, { token: secret })).body.username, 'carol');
      const other = (await login('mallory')).body.token as string;
      isProblem(await s.call('DELETE', `/api/v1/tokens/${made.body.id}`, undefined, { token: other }), 404, 'not_found');
      assert.equal((await s.call('GET', '/api/v1/auth/me', undefined, { token: secret })).status, 200, "another user cannot revoke carol's token");
      assert.equal((await s.call('DELETE', `/api/v1/tokens/${made.body.id}`, undefined, { token: carol })).status, 204);
      isProblem(await s.call('GET', '/api/v1/auth/me', undefined, { token: secret }), 401, 'unauthenticated');
    });

    test('an API token past its expiry answers 401; an expiry in the past is refused at creation', async () => {
      await mkUser('dave');
      const dave = (await login('dave')).body.token as string;
      const past = await s.call('POST', '/api/v1/tokens', { name: 'old', expiresAt: '2001-01-01T00:00:00Z' }, { token: dave });
      isProblem(past, 400, 'validation_failed');
      const made = await s.call('POST', '/api/v1/tokens', { name: 'short', expiresAt: new Date(Date.now() + 3600_000).toISOString() }, { token: dave });
      assert.equal(made.status, 201);
      // Let the hour pass without waiting for it.
      await s.database.db.execute(sql`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = ${made.body.id}`);
      isProblem(await s.call('GET', '/api/v1/auth/me', undefined, { token: made.body.token }), 401, 'unauthenticated');
      isProblem(await s.call('GET', '/api/v1/auth/me', undefined, { token: 'cnp_not-a-token' }), 401, 'unauthenticated');
      isProblem(await s.call('GET', '/api/v1/auth/me', undefined, { token: null, headers: { authorization: 'Basic YTpi' } }), 401, 'unauthenticated');
    });

    test("a superuser's password reset ends the user's sessions and API tokens; revokeTokens: false keeps the tokens", async () => {
      await mkUser('fred');
      const session = (await login('fred')).body.token as string;
      const apiToken = (await s.call('POST', '/api/v1/tokens', { name: 'ci' }, { token: session })).body.token as string;
      assert.equal((await s.call('GET', '/api/v1/auth/me', undefined, { token: session })).status, 200);
      assert.equal((await s.call('PATCH', '/api/v1/users/fred', { password: 'a-brand-new-pw', revokeTokens: false })).status, 200);
      isProblem(await s.call('GET', '/api/v1/auth/me', undefined, { token: session }), 401, 'unauthenticated');
      assert.equal((await s.call('GET', '/api/v1/auth/me', undefined, { token: apiToken })).status, 200, 'revokeTokens: false kept it');
      assert.equal((await s.call('PATCH', '/api/v1/users/fred', { password: 'a-third-new-pw' })).status, 200);
      isProblem(await s.call('GET', '/api/v1/auth/me', undefined, { token: apiToken }), 401, 'unauthenticated');
    });

    test('passwords are stored as scrypt hashes; neither the password nor the hash reaches the audit log', async () => {
      await mkUser('erin');
      assert.equal((await s.call('PATCH', '/api/v1/users/erin', { password: 'second-secret-pw' })).status, 200);
      const [row] = await rows<{ h: string }>(s.database.db, sql`SELECT password_hash AS h FROM users WHERE username = 'erin'`);
      assert.match(row?.h ?? '', /^scrypt\$16384\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
      assert.ok(!row?.h.includes('second-secret-pw'));
      assert.equal((await login('erin', 'second-secret-pw')).status, 200);
      isProblem(await login('erin'), 401, 'unauthenticated');
      const trail = await rows<{ t: string }>(s.database.db, sql`SELECT coalesce(before::text, '') || coalesce(after::text, '') AS t FROM audit_log WHERE target = 'erin'`);
      assert.ok(trail.length >= 2);
      for (const { t } of trail) {
        assert.ok(!t.includes(password('erin')) && !t.includes('second-secret-pw'), 'no password in the audit log');
        assert.ok(!t.includes('scrypt$'), 'no password hash in the audit log');
      }
    });

    test('users change their own name and password, but not their own flags or other users', async () => {
      await mkUser('frank');
      await mkUser('gina');
      const frank = (await login('frank')).body.token as string;
      assert.equal((await s.call('PATCH', '/api/v1/users/frank', { displayName: 'Frank F.' }, { token: frank })).body.displayName, 'Frank F.');
      isProblem(await s.call('PATCH', '/api/v1/users/frank', { superuser: true }, { token: frank }), 403, 'forbidden');
      isProblem(await s.call('PATCH', '/api/v1/users/gina', { displayName: 'hacked' }, { token: frank }), 403, 'forbidden');
      isProblem(await s.call('POST', '/api/v1/users', { username: 'frank2', password: 'password-x1' }, { token: frank }), 403, 'forbidden');
      const me = await s.call('GET', '/api/v1/auth/me', undefined, { token: frank });
      assert.equal(me.body.superuser, false);
    });

    test('users and groups: duplicates answer 409, unknown members 400, membership shows on the user', async () => {
      await mkUser('hank');
      isProblem(await s.call('POST', '/api/v1/users', { username: 'hank', password: 'password-x2' }), 409, 'conflict');
      isProblem(await s.call('POST', '/api/v1/users', { username: 'Bad Name', password: 'password-x2' }), 400, 'validation_failed');
      isProblem(await s.call('POST', '/api/v1/users', { username: 'shortpw', password: 'short' }), 400, 'validation_failed');
      const groups = await count('groups');
      isProblem(await s.call('POST', '/api/v1/groups', { name: 'ghosts', members: ['hank', 'no-such-user'] }), 400, 'validation_failed');
      assert.equal(await count('groups'), groups, 'a refused group left nothing behind');
      assert.equal((await s.call('POST', '/api/v1/groups', { name: 'sre', members: ['hank'] })).status, 201);
      isProblem(await s.call('POST', '/api/v1/groups', { name: 'sre' }), 409, 'conflict');
      const hank = (await login('hank')).body.token as string;
      assert.deepEqual((await s.call('GET', '/api/v1/auth/me', undefined, { token: hank })).body.groups, ['sre']);
      assert.equal((await s.call('PUT', '/api/v1/groups/sre/members', { members: [] })).status, 200);
      assert.deepEqual((await s.call('GET', '/api/v1/auth/me', undefined, { token: hank })).body.groups, []);
    });
  });
}
