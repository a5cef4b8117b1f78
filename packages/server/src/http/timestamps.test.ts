/** Every timestamp in every API answer, audit snapshots included, is ISO 8601 (`2026-12-04T06:52:50.971Z`). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { createNodes, startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { rows } from '../db/connection.ts';
import { isoTimestamp } from '../db/timestamps.ts';

/** Looks like a date and time, in any format a driver or a view might produce. */
const TIMESTAMP_LIKE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/** Every timestamp-looking string in `value` that is not ISO 8601, with where it sits. */
function nonIso(value: unknown, where: string, out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (TIMESTAMP_LIKE.test(value) && !ISO.test(value)) out.push(`${where} = ${JSON.stringify(value)}`);
  } else if (Array.isArray(value)) value.forEach((v, i) => nonIso(v, `${where}[${i}]`, out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) nonIso(v, `${where}.${k}`, out);
  return out;
}

for (const backend of testBackends()) {
  describe(`timestamps in API answers (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
      await createNodes(s, 'tsx', 'tsx.web', 'tsx.gone');
      const ok = (r: { status: number; body: unknown }, what: string) => assert.ok(r.status < 300, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
      ok(await s.call('POST', '/api/v1/machines', { hostname: 'tsx-1', ips: ['10.77.0.1'], nodes: ['tsx.web'] }), 'machine');
      ok(await s.call('PATCH', '/api/v1/machines/tsx-1', { os: 'debian 12' }), 'patch machine');
      ok(await s.call('POST', '/api/v1/tokens', { name: 'walker' }), 'token');
      ok(await s.call('POST', '/api/v1/users', { username: 'tsx-user', password: 'tsx-password-1' }), 'user');
      ok(await s.call('POST', '/api/v1/grants', { user: 'tsx-user', role: 'viewer', nodePath: 'tsx', expiresAt: '2030-01-02T03:04:05.678Z' }), 'grant');
      ok(await s.call('PUT', '/api/v1/services/tsx.web', { ports: [{ name: 'http', port: 80 }] }), 'service');
      ok(await s.call('PUT', '/api/v1/services/tsx.web/instances/tsx-1/80', { ttlSeconds: 60 }), 'instance');
      ok(await s.call('POST', '/api/v1/provisioning', { hostname: 'tsx-2', nodePath: 'tsx.web' }), 'install request');
      ok(await s.call('DELETE', '/api/v1/nodes/tsx.gone'), 'delete node');
    });
    after(() => s.close());

    test('PostgreSQL text timestamps become ISO 8601 UTC, whatever their offset', () => {
      assert.equal(isoTimestamp('2026-12-04 06:52:50.971+00'), '2026-12-04T06:52:50.971Z');
      assert.equal(isoTimestamp('2026-12-04 08:22:50.971234+01:30'), '2026-12-04T06:52:50.971Z');
      assert.equal(isoTimestamp('2026-12-04 06:52:50-08'), '2026-12-04T14:52:50.000Z');
      assert.equal(isoTimestamp('infinity'), 'infinity');
    });

    test('raw SQL rows carry ISO 8601 timestamps, inside a transaction and out', async () => {
      const [out] = await rows<{ at: string }>(s.database.db, sql`SELECT '2026-12-04 06:52:50.971+00'::timestamptz AS at`);
      assert.equal(out?.at, '2026-12-04T06:52:50.971Z');
      const inTx = await s.database.db.transaction(async (tx) => rows<{ at: string }>(tx, sql`SELECT '2026-12-04 06:52:50.971+00'::timestamptz AS at`));
      assert.equal(inTx[0]?.at, '2026-12-04T06:52:50.971Z');
    });

    test('answers of the everyday endpoints hold no timestamp that is not ISO 8601', async () => {
      const urls = [
        '/api/v1/tokens', '/api/v1/auth/me', '/api/v1/users', '/api/v1/groups', '/api/v1/roles', '/api/v1/grants',
        '/api/v1/nodes', '/api/v1/nodes/tsx.web', '/api/v1/nodes/tsx/grants', '/api/v1/machines?under=tsx', '/api/v1/machines/tsx-1',
        '/api/v1/services', '/api/v1/services/tsx.web', '/api/v1/services/tsx.web/instances', '/api/v1/services/tsx.web/instances/tsx-1/80',
        '/api/v1/provisioning', '/api/v1/trash', '/api/v1/audit?limit=200',
      ];
      const bad: string[] = [];
      let seen = 0;
      for (const url of urls) {
        const r = await s.call('GET', url);
        assert.equal(r.status, 200, `${url}: ${JSON.stringify(r.body)}`);
        seen += JSON.stringify(r.body).match(/"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}/g)?.length ?? 0;
        nonIso(r.body, url, bad);
      }
      assert.ok(seen >= 20, `expected many timestamps across the answers, saw ${seen}`);
      assert.deepEqual(bad, []);
    });

    test("audit entries' before and after snapshots hold ISO 8601 timestamps", async () => {
      const r = await s.call('GET', '/api/v1/audit?limit=200');
      const patch = r.body.items.find((e: { operation: string; target: string }) => e.operation === 'machine.update' && e.target === 'tsx-1');
      assert.ok(patch, `no machine.update entry: ${JSON.stringify(r.body.items.map((e: { operation: string }) => e.operation))}`);
      const snapshots = r.body.items.flatMap((e: { before: unknown; after: unknown }) => [e.before, e.after]);
      assert.ok(nonIso(snapshots, 'x').length === 0 && JSON.stringify(snapshots).match(/"\d{4}-\d{2}-\d{2}T/g), 'snapshots carry ISO timestamps');
      assert.deepEqual(nonIso(r.body.items, 'audit'), []);
    });
    test('audit snapshots stored in PostgreSQL text format before the fix are rewritten by migration 0550', async () => {
      const old = { createdAt: '2026-12-04 06:52:50.971+00', nested: { at: '2026-12-04 06:52:50.971234+00' }, note: '2026-12-04 06:52 is not a timestamptz' };
      await s.database.db.execute(sql`INSERT INTO audit_log (actor, operation, target_kind, target, before, after)
        VALUES ('admin', 'legacy.entry', 'legacy', 'tsx-legacy', ${JSON.stringify(old)}::jsonb, ${JSON.stringify(old)}::jsonb)`);
      await s.database.exec(readFileSync(join(import.meta.dirname, '../db/migrations/0550_audit_iso_timestamps.sql'), 'utf8'));
      const r = await s.call('GET', '/api/v1/audit?limit=200');
      const entry = r.body.items.find((e: { operation: string }) => e.operation === 'legacy.entry');
      const want = { createdAt: '2026-12-04T06:52:50.971Z', nested: { at: '2026-12-04T06:52:50.971234Z' }, note: old.note };
      assert.deepEqual(entry?.before, want);
      assert.deepEqual(entry?.after, want);
    });
  });
}
