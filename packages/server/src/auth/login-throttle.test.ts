/** Login throttling counts failed attempts only, per address and user name, and cannot be outrun. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { createLoginLimiter } from './login-limiter.ts';

const PROBLEM = 'application/problem+json; charset=utf-8';

for (const backend of testBackends()) {
  describe(`login throttling (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    const pw = (name: string) => `password-of-${name}`;
    async function mkUser(username: string): Promise<void> {
      const r = await s.call('POST', '/api/v1/users', { username, password: pw(username) });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    /** Log in from `ip` (the test server's default is 127.0.0.1); answers the status. */
    async function login(username: string, password: string, ip = '127.0.0.1'): Promise<number> {
      const res = await s.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password }, remoteAddress: ip });
      if (res.statusCode === 429) {
        assert.equal(res.headers['content-type'], PROBLEM);
        assert.equal(res.json().code, 'rate_limited');
        assert.ok(Number(res.headers['retry-after']) > 0, 'a refusal says when to retry');
      }
      return res.statusCode;
    }

    test('successful logins do not count: a script logs in 25 times in a minute', async () => {
      await mkUser('lt-script');
      for (let i = 1; i <= 25; i++) assert.equal(await login('lt-script', pw('lt-script')), 200, `login ${i}`);
    });

    test('a success between failures neither counts nor wipes the failures already counted', async () => {
      await mkUser('lt-shared');
      for (let i = 1; i <= 9; i++) assert.equal(await login('lt-shared', `guess-${i}-x`), 401);
      // The real user logs in from the guesser's address (one NAT): that must not buy the guesser more tries.
      assert.equal(await login('lt-shared', pw('lt-shared')), 200);
      assert.equal(await login('lt-shared', 'guess-10-x'), 401, 'the tenth failure still answers 401');
      assert.equal(await login('lt-shared', 'guess-11-x'), 429);
      assert.equal(await login('lt-shared', pw('lt-shared')), 429, 'locked out even with the right password');
    });

    test('each address and user name has its own counter', async () => {
      await mkUser('lt-victim');
      await mkUser('lt-neighbour');
      for (let i = 1; i <= 10; i++) assert.equal(await login('lt-victim', `guess-${i}-x`, '10.9.9.9'), 401);
      assert.equal(await login('lt-victim', 'guess-11-x', '10.9.9.9'), 429);
      assert.equal(await login('lt-victim', pw('lt-victim'), '10.1.1.1'), 200, 'the user from elsewhere still logs in');
      assert.equal(await login('lt-neighbour', pw('lt-neighbour'), '10.9.9.9'), 200, 'another user from the guessing address still logs in');
      assert.equal(await login('lt-victim', 'guess-12-x', '10.9.9.9'), 429, "their successes did not reset the guesser's counter");
    });

    test('concurrent guesses cannot outrun the limit: of 25 at once, exactly 10 are tried', async () => {
      await mkUser('lt-burst');
      const statuses = await Promise.all(Array.from({ length: 25 }, (_, i) => login('lt-burst', `burst-${i}-x`)));
      assert.equal(statuses.filter((c) => c === 401).length, 10, statuses.join(','));
      assert.equal(statuses.filter((c) => c === 429).length, 15, statuses.join(','));
    });
  });
}

describe('login limiter (model clock)', () => {
  function limiter(keys = 1000) {
    const clock = { now: Date.parse('2030-01-01T00:00:00Z') };
    return { clock, l: createLoginLimiter({ max: 3, windowMs: 60_000, maxKeys: keys, now: () => clock.now }) };
  }
  const fail = (l: ReturnType<typeof createLoginLimiter>, key: string) => assert.equal(l.admit(key).ok, true, `${key} admitted`);

  test('after max failures a key is refused until its window ends, and told how long to wait', () => {
    const { clock, l } = limiter();
    for (let i = 0; i < 3; i++) fail(l, 'ip|u');
    clock.now += 20_000;
    const refused = l.admit('ip|u');
    assert.ok(!refused.ok);
    assert.equal(refused.retryAfterMs, 40_000);
    clock.now += 39_999;
    const again = l.admit('ip|u');
    assert.ok(!again.ok);
    assert.equal(again.window, refused.window, 'refusals in one window share it (the auth log counts them on one entry)');
    clock.now += 1;
    assert.equal(l.admit('ip|u').ok, true, 'a new window');
  });

  test('a forgotten attempt (a success) stops counting; forgetting twice or after the window changes nothing', () => {
    const { clock, l } = limiter();
    for (let i = 0; i < 50; i++) {
      const a = l.admit('ip|ok');
      assert.ok(a.ok);
      a.forget();
    }
    assert.equal(l.size(), 0, 'successes leave nothing behind');
    fail(l, 'ip|u');
    const ok = l.admit('ip|u');
    assert.ok(ok.ok);
    ok.forget();
    ok.forget();
    fail(l, 'ip|u');
    fail(l, 'ip|u');
    assert.equal(l.admit('ip|u').ok, false, 'forgetting twice did not give back a failure');

    const late = l.admit('ip|late');
    assert.ok(late.ok);
    clock.now += 60_000;
    fail(l, 'ip|late');
    fail(l, 'ip|late');
    fail(l, 'ip|late');
    late.forget();
    assert.equal(l.admit('ip|late').ok, false, 'an attempt from an old window does not free a slot in the new one');
  });

  test('memory stays bounded: ended windows go first, then the oldest', () => {
    const { clock, l } = limiter(100);
    for (let i = 0; i < 100; i++) fail(l, `old-${i}`);
    clock.now += 60_000;
    fail(l, 'fresh');
    assert.equal(l.size(), 1, 'ended windows were dropped');
    for (let i = 0; i < 500; i++) fail(l, `spray-${i}`);
    assert.ok(l.size() <= 100, `size ${l.size()}`);
  });
});
