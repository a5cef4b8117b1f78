/**
 * Bad input, property-based: random payloads (wrong types, huge and odd unicode strings, nested
 * junk, missing and extra fields, invalid URL parts, foreign content types, bodies over the limit)
 * thrown at every write route the app serves. Whatever arrives: never a 5xx, every error is
 * problem+json with a known code, and nothing in the database changes unless the answer was 2xx.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { ERROR_CODES } from '@canopy/core';
import { rows } from '../db/connection.ts';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { writeRoutes, type RouteEntry } from './route-table.ts';
import { NASTY_BODIES, bodyArbitrary, paramArbitrary, type FuzzBody } from './fuzz.test-util.ts';

/** encodeURIComponent, but a lone surrogate (which it throws on) becomes its WTF-8 bytes. */
function encodeQuery(v: string): string {
  try {
    return encodeURIComponent(v);
  } catch {
    return '%ED%B0%80';
  }
}

const RUNS = Number(process.env['CANOPY_FUZZ_RUNS'] ?? 300);
const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constantFrom('text/csv', 'text/plain', 'text/plain; charset=json', 'application/xml', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', '') },
);

/** Every table's row count and content digest; but the auth log, which records refused logins by design. */
async function snapshot(s: TestServer): Promise<string> {
  const tables = await rows<{ t: string }>(s.database.db, sql`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'auth_log' ORDER BY 1`);
  const parts = tables.map(({ t }) => sql`SELECT ${t} AS t, count(*) || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS v FROM ${sql.identifier(t)} x`);
  const out = await rows<{ t: string; v: string }>(s.database.db, sql.join(parts, sql` UNION ALL `));
  return out.map((r) => `${r.t}=${r.v}`).join('\n');
}

for (const backend of testBackends()) {
  describe(`bad input at every write route (${backend.name})`, () => {
    let s: TestServer;
    let routes: RouteEntry[];
    const tokens: Record<string, string | null> = { anonymous: null };
    before(async () => {
      s = await startTestServer(backend);
      const admin = async (method: string, url: string, body?: unknown) => {
        const r = await s.call(method, url, body);
        assert.ok(r.status < 300, `${method} ${url} → ${r.status} ${JSON.stringify(r.body)}`);
        return r.body;
      };
      for (const [parentPath, name] of [[null, 'fz'], ['fz', 'a'], ['fz', 'b']] as const) await admin('POST', '/api/v1/nodes', { parentPath, name });
      // No IPs: a machine cannot become a discovery instance, whose heartbeats are written in the background.
      await admin('POST', '/api/v1/machines', { hostname: 'fz-m1.example', nodes: ['fz.a'] });
      await admin('POST', '/api/v1/users', { username: 'fz-user', password: 'password-1' });
      await admin('POST', '/api/v1/groups', { name: 'fz-group', members: ['fz-user'] });
      await admin('POST', '/api/v1/grants', { user: 'fz-user', role: 'viewer', nodePath: 'fz' });
      await admin('PUT', '/api/v1/puppet/classes', ['base']);
      await admin('PUT', '/api/v1/domains/fz.example.com', { ports: [{ port: 8080 }] });
      // An API token, not a session: a fuzzed logout must not end the admin's credentials.
      tokens['admin'] = (await admin('POST', '/api/v1/tokens', { name: 'fuzz' })).token;
      tokens['viewer'] = await s.login('fz-user', 'password-1');
      routes = writeRoutes(s.app);
    });
    after(() => s.close());

    /** Send one request and check the three promises; returns a description of any breach. */
    async function probe(method: string, url: string, body: FuzzBody, contentType: string, actor: string, mustRefuse = false): Promise<string | undefined> {
      const headers: Record<string, string> = {};
      const token = tokens[actor];
      if (token) headers['authorization'] = `Bearer ${token}`;
      if (contentType && body !== undefined) headers['content-type'] = contentType;
      const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body.json);
      // Refusals are checked as a batch by the caller (one snapshot around them all).
      const before = mustRefuse ? '' : await snapshot(s);
      const res = await s.app.inject({ method: method as 'POST', url, headers, ...(payload !== undefined ? { payload } : {}) });
      const after = mustRefuse ? '' : await snapshot(s);
      const what = `${actor} ${method} ${url.slice(0, 200)} [${contentType}] ${String(payload).slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 300)}`;
      if (res.statusCode >= 500) return `5xx: ${what}`;
      if (mustRefuse && res.statusCode < 400) return `accepted: ${what}`;
      if (res.statusCode >= 400) {
        if (!String(res.headers['content-type']).startsWith('application/problem+json')) return `not problem+json: ${what}`;
        const code = (JSON.parse(res.body) as { code?: string }).code;
        if (!ERROR_CODES.includes(code as (typeof ERROR_CODES)[number])) return `unknown code: ${what}`;
      }
      if ((res.statusCode < 200 || res.statusCode >= 300) && before !== after) return `changed the database without a 2xx: ${what}`;
      return undefined;
    }

    function urlOf(route: RouteEntry, params: Record<string, string>, query: string): string {
      return route.url.replace(/:([A-Za-z]+)/g, (_m, name: string) => params[name] ?? 'x') + query;
    }

    test(`${RUNS} random requests: no 5xx, problem+json errors, no write without a 2xx`, async () => {
      const names = [...new Set(routes.flatMap((r) => [...r.url.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1] as string)))];
      const params = fc.record(Object.fromEntries(names.map((n) => [n, paramArbitrary(n)])) as Record<string, fc.Arbitrary<string>>);
      const query = fc.oneof(
        { weight: 4, arbitrary: fc.constant('') },
        { weight: 1, arbitrary: fc.constantFrom('?mode=upsert', '?mode=sideways', '?force=true', '?force=maybe', '?x=%00', '?a=%ZZ') },
        { weight: 1, arbitrary: fc.tuple(fc.string(), fc.string()).map(([k, v]) => `?${encodeQuery(k)}=${encodeQuery(v)}`) },
      );
      const request = fc.integer({ min: 0, max: routes.length - 1 }).chain((i) => {
        const route = routes[i] as RouteEntry;
        return fc.record({
          route: fc.constant(route),
          params,
          query,
          body: bodyArbitrary(`${route.method} ${route.url}`),
          contentType,
          actor: fc.constantFrom('admin', 'admin', 'admin', 'admin', 'viewer', 'anonymous'),
        });
      });
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          const breach = await probe(r.route.method, urlOf(r.route, r.params, r.query), r.body, r.contentType, r.actor);
          assert.equal(breach, undefined);
        }),
        { numRuns: RUNS },
      );
    });

    test('every write route answers the fixed nasties (over the body limit, too deep, NUL, lone surrogates) with a 4xx problem', async () => {
      const breaches: string[] = [];
      const valid = { path: 'fz.a', hostname: 'fz-m1.example', id: '1', username: 'fz-user', name: 'fz-group', domain: 'fz.example.com', port: '8080' } as Record<string, string>;
      const before = await snapshot(s);
      for (const route of routes) {
        for (const body of NASTY_BODIES) {
          const breach = await probe(route.method, urlOf(route, valid, ''), body, 'application/json', 'admin', true);
          if (breach) breaches.push(breach);
        }
      }
      assert.deepEqual(breaches, []);
      assert.equal(await snapshot(s), before, 'refused requests changed the database');
    });
  });
}
