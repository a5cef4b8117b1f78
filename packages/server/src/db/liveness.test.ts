/**
 * A long write does not stop the server: while a big CSV import runs, a heartbeat that moves an
 * instance's health (a write of its own), a discovery resolve, /auth/me and a DNS query all answer
 * before the import does. (It used to freeze everything for the import's whole length: PGlite's
 * statements settle as microtasks, so one long transaction starved the event loop, and the single
 * transaction held the write lock that the heartbeat's health change needs.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { createNodes, startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { CHUNK_ROWS } from '../machines/import.ts';

/** Enough chunks that the import is still running when the calls under test answer. */
const ROWS = CHUNK_ROWS * 6;

for (const backend of testBackends()) {
  describe(`liveness during a long import (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend, { dns: { port: 0, host: '127.0.0.1' } });
      await createNodes(s, 'live', 'live.web', 'live.bulk');
      const ok = (r: { status: number; body: unknown }, what: string) => assert.ok(r.status < 300, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
      ok(await s.call('POST', '/api/v1/machines', { hostname: 'live-web-1', ips: ['10.88.0.1'], nodes: ['live.web'] }), 'machine');
      ok(await s.call('PUT', '/api/v1/services/live.web', { ports: [{ name: 'http', port: 80 }] }), 'service');
      ok(await s.call('PUT', '/api/v1/services/live.web/instances/live-web-1/80', { ttlSeconds: 600 }), 'instance');
    });
    after(() => s.close());

    const csvOf = (prefix: string, n: number) =>
      ['hostname,ips,nodes', ...Array.from({ length: n }, (_, i) => `${prefix}-${i},10.${89 + Math.floor(i / 65536)}.${(i >> 8) & 255}.${i & 255},live.bulk`)].join('\n');
    const importCsv = (text: string) => s.call('POST', '/api/v1/machines/import', text, { headers: { 'content-type': 'text/csv' } });
    const heartbeat = (status: 'pass' | 'fail') => s.call('PUT', '/api/v1/services/live.web/instances/live-web-1/80/heartbeat', { status });

    test('a health-changing heartbeat, a resolve, /auth/me and DNS answer while a 600-row import runs', async () => {
      // Critical first, so the heartbeat under test moves it to passing: a transition, written under
      // the write lock (in the background since heartbeats stopped waiting for it).
      assert.equal((await heartbeat('fail')).body.health, 'critical');
      let importDone = false;
      const firstRowLanded = new Promise<void>((resolve) => s.services.feed.on('machine', () => resolve()));
      const running = importCsv(csvOf('live-a', ROWS)).then((r) => {
        importDone = true;
        return r;
      });
      await firstRowLanded;
      // Progress while it runs: each committed chunk is in the audit log as `rows a-b of n`.
      const progress = await s.call('GET', '/api/v1/audit?operation=machine.import&limit=10');
      assert.equal(importDone, false, 'asked while the import runs');
      assert.ok(progress.body.items.some((e: { target: string }) => e.target === `rows 1-${CHUNK_ROWS} of ${ROWS}`), JSON.stringify(progress.body.items));

      const order: string[] = [];
      const note = <T>(what: string, p: Promise<T>) => p.then((v) => (order.push(`${what}${importDone ? ' after the import' : ''}`), v));
      const resolver = new Resolver({ timeout: 60_000, tries: 1 });
      resolver.setServers([`127.0.0.1:${s.services.dns?.port()}`]);
      // Resolve and DNS go once the heartbeat has made the instance healthy, so they see it.
      const beat = note('heartbeat', heartbeat('pass'));
      const [hb, resolved, me, addresses] = await Promise.all([
        beat,
        note('resolve', beat.then(() => s.call('GET', '/api/v1/services/live.web/instances'))),
        note('/auth/me', s.call('GET', '/api/v1/auth/me')),
        note('dns', beat.then(() => resolver.resolve4('web.live.svc.canopy'))),
      ]);
      const report = await running;

      assert.deepEqual(order.sort(), ['/auth/me', 'dns', 'heartbeat', 'resolve'], 'each answered before the import did');
      assert.equal(hb.body.health, 'passing');
      assert.deepEqual(resolved.body.instances.map((i: { hostname: string }) => i.hostname), ['live-web-1']);
      assert.equal(me.body.username, 'admin');
      assert.deepEqual(addresses, ['10.88.0.1']);
      assert.equal(report.status, 200, JSON.stringify(report.body).slice(0, 300));
      assert.deepEqual([report.body.created, report.body.failed], [ROWS, 0]);
    });

    test('a big import lands chunk by chunk, one audit entry per chunk, with one report of every row', async () => {
      const n = CHUNK_ROWS * 2 + 7;
      const before = (await s.call('GET', '/api/v1/nodes/live.bulk')).body.machineCount as number;
      let countEvents = 0;
      s.services.feed.on('tree', () => void countEvents++);
      const r = await importCsv(`${csvOf('live-b', n)}\nlive-b-0,10.99.0.1,live.bulk`);
      assert.equal(r.status, 200);
      assert.deepEqual([r.body.created, r.body.failed, r.body.rows.length], [n, 1, n + 1]);
      assert.deepEqual(r.body.rows.map((x: { row: number }) => x.row), Array.from({ length: n + 1 }, (_, i) => i + 1));
      assert.match(r.body.rows.at(-1).errors.join(' '), /earlier in this import/, 'a duplicate across chunks is still caught');
      // The node's machine count is published once per chunk (its last value), not once per row.
      assert.equal(countEvents, 3);
      assert.equal((await s.call('GET', '/api/v1/nodes/live.bulk')).body.machineCount, before + n);
      const audit = await s.call('GET', '/api/v1/audit?operation=machine.import&limit=50');
      const chunks = audit.body.items.filter((e: { operation: string; target: string }) => e.operation === 'machine.import' && e.target.endsWith(`of ${n + 1}`));
      assert.deepEqual(chunks.map((e: { target: string }) => e.target).sort(), [`rows 1-${CHUNK_ROWS} of ${n + 1}`, `rows ${CHUNK_ROWS + 1}-${2 * CHUNK_ROWS} of ${n + 1}`, `rows ${2 * CHUNK_ROWS + 1}-${n + 1} of ${n + 1}`].sort());
    });
  });
}
