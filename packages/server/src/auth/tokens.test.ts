/** API tokens: a default expiry, never only when asked, and superusers who list and revoke anyone's. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, testBackends, type Reply, type TestServer } from '../testing/index.ts';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const DAY = 86400_000;

for (const backend of testBackends()) {
  describe(`API tokens (${backend.name})`, () => {
    let s: TestServer;
    const session: Record<string, string> = {};
    before(async () => {
      s = await startTestServer(backend);
      for (const u of ['tk-ann', 'tk-bob']) {
        assert.equal((await s.call('POST', '/api/v1/users', { username: u, password: `pw-of-${u}` })).status, 201);
        session[u] = await s.login(u, `pw-of-${u}`);
      }
    });
    after(() => s.close());

    const as = (who: string) => ({ token: session[who] ?? null });
    function refused(r: Reply, status: number, code: string): void {
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.code, code);
    }

    test('a token expires after 90 days unless told otherwise; never-expiring only with never: true', async () => {
      const plain = await s.call('POST', '/api/v1/tokens', { name: 'plain' }, as('tk-ann'));
      assert.equal(plain.status, 201);
      const left = Date.parse(plain.body.expiresAt) - Date.now();
      assert.ok(left > 89 * DAY && left <= 90 * DAY, `expires in ${left / DAY} days`);
      assert.match(plain.body.expiresAt, ISO);

      const week = await s.call('POST', '/api/v1/tokens', { name: 'week', expiresInDays: 7 }, as('tk-ann'));
      assert.ok(Math.abs(Date.parse(week.body.expiresAt) - Date.now() - 7 * DAY) < DAY);
      const forever = await s.call('POST', '/api/v1/tokens', { name: 'forever', never: true }, as('tk-ann'));
      assert.equal(forever.status, 201);
      assert.equal(forever.body.expiresAt, null);

      refused(await s.call('POST', '/api/v1/tokens', { name: 'both', never: true, expiresInDays: 3 }, as('tk-ann')), 400, 'validation_failed');
      refused(await s.call('POST', '/api/v1/tokens', { name: 'false', never: false }, as('tk-ann')), 400, 'validation_failed');
      refused(await s.call('POST', '/api/v1/tokens', { name: 'null', expiresInDays: null }, as('tk-ann')), 400, 'validation_failed');
    });

    test('GET /tokens lists your own with ISO 8601 times and your user name', async () => {
      await s.call('POST', '/api/v1/tokens', { name: 'bobs' }, as('tk-bob'));
      const mine = await s.call('GET', '/api/v1/tokens', undefined, as('tk-bob'));
      assert.equal(mine.status, 200);
      assert.ok(mine.body.items.length >= 1);
      for (const t of mine.body.items) {
        assert.equal(t.username, 'tk-bob');
        assert.match(t.createdAt, ISO);
        if (t.expiresAt !== null) assert.match(t.expiresAt, ISO);
        assert.equal(t.token, undefined, 'the secret is never listed');
      }
      assert.equal((await s.call('GET', '/api/v1/tokens?user=tk-bob', undefined, as('tk-bob'))).status, 200, 'naming yourself is fine');
    });

    test("a superuser lists everyone's tokens (?all=true) or one user's (?user=); others are refused", async () => {
      assert.equal((await s.call('POST', '/api/v1/tokens', { name: 'admins' })).status, 201);
      const all = await s.call('GET', '/api/v1/tokens?all=true');
      assert.equal(all.status, 200);
      const owners = new Set(all.body.items.map((t: { username: string }) => t.username));
      for (const u of ['admin', 'tk-ann', 'tk-bob']) assert.ok(owners.has(u), `${u} in ${[...owners].join(',')}`);
      const anns = await s.call('GET', '/api/v1/tokens?user=tk-ann');
      assert.ok(anns.body.items.length >= 3 && anns.body.items.every((t: { username: string }) => t.username === 'tk-ann'));
      refused(await s.call('GET', '/api/v1/tokens?user=no-such-user'), 404, 'not_found');

      refused(await s.call('GET', '/api/v1/tokens?all=true', undefined, as('tk-bob')), 403, 'forbidden');
      refused(await s.call('GET', '/api/v1/tokens?user=tk-ann', undefined, as('tk-bob')), 403, 'forbidden');
      refused(await s.call('GET', '/api/v1/tokens?all=maybe'), 400, 'validation_failed');
    });

    test('the list pages with limit and cursor', async () => {
      const first = await s.call('GET', '/api/v1/tokens?all=true&limit=2');
      assert.equal(first.body.items.length, 2);
      assert.ok(first.body.nextCursor);
      const next = await s.call('GET', `/api/v1/tokens?all=true&limit=2&cursor=${first.body.nextCursor}`);
      assert.ok(next.body.items.length >= 1);
      assert.ok(next.body.items[0].id > first.body.items[1].id);
    });

    test("a superuser revokes anyone's token, which stops working at once; a non-owner gets 404", async () => {
      const made = await s.call('POST', '/api/v1/tokens', { name: 'leaked' }, as('tk-ann'));
      const secret = made.body.token as string;
      assert.equal((await s.call('GET', '/api/v1/auth/me', undefined, { token: secret })).status, 200);
      refused(await s.call('DELETE', `/api/v1/tokens/${made.body.id}`, undefined, as('tk-bob')), 404, 'not_found');
      assert.equal((await s.call('GET', '/api/v1/auth/me', undefined, { token: secret })).status, 200, 'bob could not revoke it');

      assert.equal((await s.call('DELETE', `/api/v1/tokens/${made.body.id}`)).status, 204);
      assert.equal((await s.call('GET', '/api/v1/auth/me', undefined, { token: secret })).status, 401);
      const listed = (await s.call('GET', '/api/v1/tokens', undefined, as('tk-ann'))).body.items.find((t: { id: number }) => t.id === made.body.id);
      assert.match(listed.revokedAt, ISO);
      refused(await s.call('DELETE', `/api/v1/tokens/${made.body.id}`), 404, 'not_found');
      const audit = (await s.call('GET', '/api/v1/audit?operation=token.revoke')).body.items[0];
      assert.equal(audit.actor, 'admin');
      assert.equal(audit.target, 'tk-ann/leaked');
    });
  });
}
