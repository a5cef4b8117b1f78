/** /healthz, /readyz, /metrics and the access log: real endpoints, never the console's HTML. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ValidationError } from '@canopy/core';
import { loadConfig } from '../config.ts';
import { createNodes, startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { buildApp } from './app.ts';

for (const backend of testBackends()) {
  describe(`operations endpoints (${backend.name})`, () => {
    let s: TestServer;
    let web: FastifyInstance;
    let webDir: string;
    const lines: string[] = [];
    before(async () => {
      s = await startTestServer(backend);
      webDir = mkdtempSync(join(tmpdir(), 'canopy-web-'));
      writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>Canopy console</title>');
      // The app as `npm start` builds it: with the console at / and the access log on.
      web = await buildApp(s.services, { logLevel: 'silent', webDir, accessLog: (line) => lines.push(line) });
    });
    after(async () => {
      await web.close();
      await s.close();
      rmSync(webDir, { recursive: true, force: true });
    });
    const get = async (url: string, token: string | null = s.adminToken) => {
      const r = await web.inject({ url, headers: token ? { authorization: `Bearer ${token}` } : {} });
      return { status: r.statusCode, type: String(r.headers['content-type']), body: r.body };
    };

    test('with the console served at /, /healthz, /readyz and /metrics answer as themselves, without credentials', async () => {
      const shell = await get('/nodes/corp', null);
      assert.match(shell.body, /Canopy console/, 'a console route still gets the app shell');
      for (const url of ['/healthz', '/readyz', '/metrics']) {
        const r = await get(url, null);
        assert.equal(r.status, 200, `${url}: ${r.body.slice(0, 200)}`);
        assert.doesNotMatch(r.body, /<!doctype html>/i, `${url} answered the console's HTML`);
      }
      assert.deepEqual(JSON.parse((await get('/healthz', null)).body), { status: 'ok' });
    });

    test('/readyz says the database answers and the read models follow it', async () => {
      const r = await get('/readyz', null);
      const body = JSON.parse(r.body);
      assert.equal(body.status, 'ready');
      assert.deepEqual(body.checks, { database: 'ok', readModels: 'ok' });
      assert.equal(body.revision, s.services.feed.revision());
    });

    test('/readyz answers 503, naming the failed check, once the database is gone; /healthz still 200', async () => {
      const other = await startTestServer(backend);
      try {
        await other.database.close();
        const r = await other.app.inject({ url: '/readyz' });
        assert.equal(r.statusCode, 503, r.body);
        const body = JSON.parse(r.body);
        assert.equal(body.status, 'unavailable');
        assert.notEqual(body.checks.database, 'ok');
        assert.doesNotMatch(r.body, /ECONN|127\.0\.0\.1|postgres:/, 'no connection details leak to the public probe');
        assert.equal((await other.app.inject({ url: '/healthz' })).statusCode, 200);
      } finally {
        await other.app.close();
        await other.services.stop().catch(() => {});
      }
    });

    test('/metrics is Prometheus text: process, HTTP requests by route and status, change feed, agent sessions', async () => {
      await createNodes(s, 'opsm');
      assert.equal((await get('/api/v1/nodes/opsm')).status, 200);
      assert.equal((await get('/api/v1/nodes/opsm-none')).status, 404);
      const r = await get('/metrics', null);
      assert.match(r.type, /^text\/plain; version=0\.0\.4/);
      assert.match(r.body, /^process_cpu_user_seconds_total \d/m);
      assert.match(r.body, /^nodejs_eventloop_lag_p99_seconds /m);
      assert.match(r.body, /^canopy_http_requests_total\{method="GET",route="\/api\/v1\/nodes\/:path",status="200"\} [1-9]/m);
      assert.match(r.body, /^canopy_http_requests_total\{method="GET",route="\/api\/v1\/nodes\/:path",status="404"\} [1-9]/m);
      assert.match(r.body, /^canopy_http_request_duration_seconds_bucket\{le="0\.1",method="GET",route="\/api\/v1\/nodes\/:path",status="200"\} [1-9]/m);
      assert.match(r.body, new RegExp(`^canopy_change_feed_revision ${s.services.feed.revision()}$`, 'm'));
      assert.match(r.body, /^canopy_agent_sessions 0$/m);
    });

    test('the access log has one line per request: method, path without query, status, duration, user', async () => {
      lines.length = 0;
      await get('/api/v1/nodes?under=opsm&limit=5');
      await get('/api/v1/nodes/opsm', null);
      assert.equal(lines.length, 2, lines.join('\n'));
      assert.match(lines[0] ?? '', /^\d{4}-\d{2}-\d{2}T[\d:.]+Z access method=GET path="\/api\/v1\/nodes" status=200 ms=\d+\.\d user="admin" id=\S+$/);
      assert.match(lines[1] ?? '', / method=GET path="\/api\/v1\/nodes\/opsm" status=401 ms=\d+\.\d user="-" /);
    });
  });
}

describe('access log configuration', () => {
  test('CANOPY_ACCESS_LOG is on by default and takes on or off; anything else is a configuration error', () => {
    assert.equal(loadConfig({}).accessLog, true);
    assert.equal(loadConfig({ CANOPY_ACCESS_LOG: 'off' }).accessLog, false);
    assert.equal(loadConfig({ CANOPY_ACCESS_LOG: 'on' }).accessLog, true);
    assert.throws(() => loadConfig({ CANOPY_ACCESS_LOG: 'sometimes' }), (err: unknown) => err instanceof ValidationError && err.issues.some((i) => i.path[0] === 'accessLog'));
  });
});
