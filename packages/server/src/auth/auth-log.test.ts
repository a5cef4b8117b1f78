/** The auth log: every login attempt, with outcome, address and user agent, queryable like the audit log. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

interface Entry {
  id: number;
  at: string;
  username: string;
  outcome: string;
  address: string;
  userAgent: string;
  attempts: number;
}

for (const backend of testBackends()) {
  describe(`auth log (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
      for (const u of ['al-ann', 'al-bob']) assert.equal((await s.call('POST', '/api/v1/users', { username: u, password: `pw-of-${u}` })).status, 201);
    });
    after(() => s.close());

    /** Log in from `address` with `agent`; answers the status. */
    async function login(username: string, password: string, address: string, agent: string): Promise<number> {
      const res = await s.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password }, remoteAddress: address, headers: { 'user-agent': agent } });
      return res.statusCode;
    }
    const log = async (query: string, token?: string) => s.call('GET', `/api/v1/auth/log${query}`, undefined, token === undefined ? {} : { token });

    test('a success, a wrong password and an unknown user are each recorded with address and user agent', async () => {
      assert.equal(await login('al-ann', 'pw-of-al-ann', '198.51.100.7', 'canopy-console/1'), 200);
      assert.equal(await login('al-ann', 'wrong-password', '198.51.100.8', 'curl/8.5'), 401);
      assert.equal(await login('al-nobody', 'whatever', '198.51.100.9', 'python-requests/2'), 401);
      const ann = await log('?user=al-ann');
      assert.equal(ann.status, 200);
      const got = (ann.body.items as Entry[]).map((e) => [e.outcome, e.address, e.userAgent, e.attempts]);
      assert.deepEqual(got, [
        ['failure', '198.51.100.8', 'curl/8.5', 1],
        ['success', '198.51.100.7', 'canopy-console/1', 1],
      ]);
      for (const e of ann.body.items as Entry[]) assert.match(e.at, ISO);
      const nobody = (await log('?user=al-nobody')).body.items as Entry[];
      assert.deepEqual(nobody.map((e) => [e.outcome, e.address]), [['failure', '198.51.100.9']]);
    });

    test('rate-limited attempts are recorded, folded into one entry per limiter window with a count', async () => {
      for (let i = 1; i <= 10; i++) assert.equal(await login('al-bob', `guess-${i}`, '203.0.113.5', 'guesser/1'), 401);
      for (let i = 1; i <= 3; i++) assert.equal(await login('al-bob', `guess-more-${i}`, '203.0.113.5', 'guesser/1'), 429);
      const limited = (await log('?user=al-bob&outcome=rate_limited')).body.items as Entry[];
      assert.deepEqual(limited.map((e) => [e.outcome, e.address, e.userAgent, e.attempts]), [['rate_limited', '203.0.113.5', 'guesser/1', 3]]);
      assert.equal(((await log('?user=al-bob&outcome=failure')).body.items as Entry[]).length, 10);
    });

    test('the log pages newest first with limit and cursor', async () => {
      const first = await log('?limit=2');
      assert.equal(first.body.items.length, 2);
      assert.ok(first.body.nextCursor);
      const second = await log(`?limit=2&cursor=${first.body.nextCursor}`);
      assert.ok(second.body.items[0].id < first.body.items[1].id);
    });

    test('a non-superuser reads only the attempts on their own name; anonymous callers are refused', async () => {
      const ann = await s.login('al-ann', 'pw-of-al-ann');
      const own = await log('', ann);
      assert.equal(own.status, 200);
      assert.ok(own.body.items.length >= 3);
      assert.ok((own.body.items as Entry[]).every((e) => e.username === 'al-ann'));
      assert.equal((await log('?user=al-ann', ann)).status, 200);
      const other = await log('?user=al-bob', ann);
      assert.equal(other.status, 403);
      assert.equal(other.body.code, 'forbidden');
      assert.equal((await log('', '')).status, 401);
      assert.equal((await log('?outcome=sideways')).status, 400);
    });
  });
}
