/**
 * The authorization matrix, route by route: every write route the app registers (read back from
 * Fastify, so a route added later is covered or fails here) refuses a viewer of the subtree, an
 * outsider and an anonymous caller, and the database is byte-for-byte unchanged afterwards. The
 * least role that may do a node-scoped write can do it in its subtree and not outside it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { rows } from '../db/connection.ts';
import { writeRoutes } from '../http/route-table.ts';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { MATRIX, PROGRAMS, createFixture, type Call, type Entry, type Fixture } from './authz-matrix.test-util.ts';

for (const [program, found] of Object.entries(PROGRAMS)) {
  if (!found) console.error(`\n!!! ${program} not installed: the matrix checks only refusals of its apply/rollback routes (apt-get install ${program})\n`);
}

/** Every table's row count and content digest: any write anywhere changes it. */
async function snapshot(s: TestServer): Promise<Map<string, string>> {
  const tables = await rows<{ t: string }>(
    s.database.db,
    sql`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`,
  );
  const parts = tables.map(({ t }) => sql`SELECT ${t} AS t, count(*) || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS v FROM ${sql.identifier(t)} x`);
  const out = await rows<{ t: string; v: string }>(s.database.db, sql.join(parts, sql` UNION ALL `));
  return new Map(out.map((r) => [r.t, r.v]));
}

function changed(a: Map<string, string>, b: Map<string, string>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].filter((t) => a.get(t) !== b.get(t));
}

for (const backend of testBackends()) {
  describe(`authorization matrix (${backend.name})`, () => {
    let s: TestServer;
    let fx: Fixture;
    const token: Record<string, string> = {};
    before(async () => {
      s = await startTestServer(backend);
      fx = createFixture(s);
      for (const [parentPath, name] of [[null, 'mx'], ['mx', 'in'], ['mx', 'out']] as const) await fx.admin('POST', '/api/v1/nodes', { parentPath, name });
      await fx.admin('PUT', '/api/v1/puppet/classes', ['base']);
      for (const [user, role, nodePath] of [['mx-viewer', 'viewer', 'mx'], ['mx-ops', 'ops', 'mx.in'], ['mx-admin', 'admin', 'mx.in'], ['mx-outsider', null, ''], ['mx-victim', null, '']] as const) {
        await fx.admin('POST', '/api/v1/users', { username: user, password: `pw-of-${user}` });
        if (role) await fx.admin('POST', '/api/v1/grants', { user, role, nodePath });
        token[user] = await s.login(user, `pw-of-${user}`);
      }
    });
    after(() => s.close());

    const entries = () => Object.entries(MATRIX);

    /**
     * Call as `who` expecting a refusal with one of `statuses` (or, for `report`, a 200 report that
     * refuses every row); returns what went wrong, if anything.
     */
    async function refusal(who: string, call: Call, statuses: number[], report = false): Promise<string[]> {
      // A prepare's publication starts a rollout decision after it returns: let it land first.
      for (const r of Object.values(s.services.rollouts)) await r.idle();
      const before = await snapshot(s);
      const r = await s.call(call.method, call.url, call.body, { token: who === 'anonymous' ? null : (token[who] ?? null) });
      const diff = changed(before, await snapshot(s));
      const out: string[] = [];
      if (report) {
        const rowsRefused = r.status === 200 && r.body.rows.length > 0 && r.body.rows.every((x: { ok: boolean; errors?: string[] }) => !x.ok && /not allowed/.test(x.errors?.join(' ') ?? ''));
        if (!rowsRefused) out.push(`${who}: ${call.method} ${call.url} did not refuse every row: ${r.status} ${JSON.stringify(r.body)?.slice(0, 200)}`);
      } else if (!statuses.includes(r.status)) out.push(`${who}: ${call.method} ${call.url} answered ${r.status} ${JSON.stringify(r.body)?.slice(0, 200)}`);
      else if (!String(r.headers['content-type']).startsWith('application/problem+json') || typeof r.body?.code !== 'string') out.push(`${who}: ${call.method} ${call.url} refusal is not problem+json`);
      if (diff.length) out.push(`${who}: ${call.method} ${call.url} changed ${diff.join(', ')}`);
      return out;
    }

    test('every write route the app serves has a matrix entry, and every entry names a served route', () => {
      const served = writeRoutes(s.app).map((r) => `${r.method} ${r.url}`);
      assert.ok(served.includes('POST /api/v1/nodes') && served.length > 20, `route table looks wrong: ${served.join(', ')}`);
      const missing = served.filter((k) => !(k in MATRIX));
      assert.deepEqual(missing, [], `write routes with no entry in auth/authz-matrix.test-util.ts: ${missing.join(', ')}`);
      const stale = Object.keys(MATRIX).filter((k) => !served.includes(k));
      assert.deepEqual(stale, [], `matrix entries for routes the app does not serve: ${stale.join(', ')}`);
    });

    test('an anonymous caller is refused every non-public write with 401, and nothing changes', async () => {
      const problems: string[] = [];
      for (const [, e] of entries()) {
        if (e.kind === 'public' || e.kind === 'self') continue;
        problems.push(...(await refusal('anonymous', await e.prepare(fx, 'mx.in'), [401])));
      }
      for (const k of Object.keys(MATRIX).filter((k) => MATRIX[k]?.kind === 'self')) {
        const [method, url] = k.split(' ') as [string, string];
        problems.push(...(await refusal('anonymous', { method, url, body: method === 'POST' && url.endsWith('/tokens') ? { name: 'x' } : undefined }, [401])));
      }
      assert.deepEqual(problems, []);
    });

    for (const who of ['mx-viewer', 'mx-outsider'] as const) {
      test(`${who === 'mx-viewer' ? 'a viewer of the subtree' : 'an outsider with no grants'} is refused every write (403/404), and nothing changes`, async () => {
        const problems: string[] = [];
        for (const [, e] of entries()) {
          if (e.kind === 'public' || e.kind === 'self') continue;
          const call = await e.prepare(fx, 'mx.in');
          if (e.kind === 'readonly' && who === 'mx-viewer') {
            const before = await snapshot(s);
            const r = await s.call(call.method, call.url, call.body, { token: token[who] ?? null });
            if (r.status !== 200) problems.push(`${who}: ${call.method} ${call.url} (read-only) answered ${r.status}`);
            const diff = changed(before, await snapshot(s));
            if (diff.length) problems.push(`${who}: read-only ${call.method} ${call.url} changed ${diff.join(', ')}`);
          } else problems.push(...(await refusal(who, call, [403, 404])));
        }
        assert.deepEqual(problems, []);
      });
    }

    test('self-service writes act on the caller only', async () => {
      const made = await s.call('POST', '/api/v1/tokens', { name: 'own' }, { token: token['mx-viewer'] ?? null });
      assert.equal(made.status, 201);
      assert.equal((await s.call('GET', '/api/v1/auth/me', undefined, { token: made.body.token })).body.username, 'mx-viewer');
      const spare = await s.login('mx-outsider', 'pw-of-mx-outsider');
      assert.equal((await s.call('POST', '/api/v1/auth/logout', undefined, { token: spare })).status, 204);
      assert.equal((await s.call('GET', '/api/v1/auth/me', undefined, { token: spare })).status, 401, 'that session ended');
      assert.equal((await s.call('GET', '/api/v1/auth/me', undefined, { token: token['mx-outsider'] ?? null })).status, 200, 'other sessions live on');
    });

    test('the least role allowing a write does it in its subtree and is refused outside it', async () => {
      const problems: string[] = [];
      const holderOf = (e: Entry) => (e.kind === 'node' && e.holder === 'admin' ? 'mx-admin' : 'mx-ops');
      // Refusals first: successes may start background work (heartbeat flushes) that writes later.
      for (const [, e] of entries()) {
        if (e.kind === 'node') problems.push(...(await refusal(holderOf(e), await e.prepare(fx, 'mx.out'), [403, 404], e.outside === 'report')));
        if (e.kind === 'restricted') problems.push(...(await refusal('mx-admin', await e.prepare(fx, 'mx.in'), [403, 404])));
      }
      for (const [key, e] of entries()) {
        if (e.kind !== 'node' && e.kind !== 'anywhere') continue;
        if (e.kind === 'node' && e.needs && !PROGRAMS[e.needs]) continue;
        const call = await e.prepare(fx, 'mx.in');
        const r = await s.call(call.method, call.url, call.body, { token: token[holderOf(e)] ?? null });
        const ok = e.success === 'ok' ? r.status >= 200 && r.status < 300 : ![401, 403, 404, 500].includes(r.status);
        if (!ok) problems.push(`${holderOf(e)} inside: ${key} (${call.url}) answered ${r.status} ${JSON.stringify(r.body)?.slice(0, 200)}`);
      }
      assert.deepEqual(problems, []);
    });
  });
}
