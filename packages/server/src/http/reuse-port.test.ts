/**
 * CANOPY_REUSE_PORT: replicas on one host share the HTTP and DNS ports, the kernel spreading
 * connections over them. Two replicas over one database here (in one process, which the kernel
 * treats as two listeners all the same), each listening on the same port.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { FastifyInstance, FastifyListenOptions } from 'fastify';
import { ValidationError } from '@canopy/core';
import { loadConfig } from '../config.ts';
import { createServices, type Services } from '../services.ts';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { mkInstance, mkService } from '../discovery/fixtures.test-util.ts';
import { buildApp } from './app.ts';

const run = promisify(execFile);
const listenShared = (port: number): FastifyListenOptions & { reusePort: boolean } => ({ port, host: '127.0.0.1', reusePort: true });

test('CANOPY_REUSE_PORT is a boolean that needs DATABASE_URL', () => {
  assert.equal(loadConfig({}).reusePort, false);
  assert.equal(loadConfig({ CANOPY_REUSE_PORT: '1', DATABASE_URL: 'postgres://db/canopy' }).reusePort, true);
  assert.equal(loadConfig({ CANOPY_REUSE_PORT: 'false', DATABASE_URL: 'postgres://db/canopy' }).reusePort, false);
  assert.throws(() => loadConfig({ CANOPY_REUSE_PORT: '1' }), (err: unknown) => err instanceof ValidationError && /DATABASE_URL/.test(JSON.stringify(err.issues)));
  assert.throws(() => loadConfig({ CANOPY_REUSE_PORT: 'maybe', DATABASE_URL: 'postgres://db/canopy' }), ValidationError);
});

/** One HTTP/1.1 request on a fresh connection; the answer's body. */
function fresh(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let text = '';
    socket.on('data', (d: Buffer) => (text += d));
    socket.on('error', reject);
    socket.on('close', () => resolve(text.slice(text.indexOf('\r\n\r\n') + 4)));
  });
}

for (const backend of testBackends()) {
  describe(`two replicas sharing one port (${backend.name})`, () => {
    let s: TestServer;
    let replica: Services;
    let app2: FastifyInstance;
    let port: number;
    const served = [0, 0];

    before(async () => {
      s = await startTestServer(backend, { dns: { port: 0, reusePort: true } });
      await s.app.listen(listenShared(0));
      port = (s.app.server.address() as AddressInfo).port;
      replica = createServices(s.database, { dns: { port: s.services.dns?.port() ?? 0, reusePort: true } });
      await replica.start();
      app2 = await buildApp(replica, { logLevel: 'silent' });
      await app2.listen(listenShared(port));
      s.app.server.on('connection', () => served[0]!++);
      app2.server.on('connection', () => served[1]!++);
    });
    after(async () => {
      await app2.close();
      await replica.stop();
      await s.close();
    });

    test('the kernel spreads connections over both, and both answer from the same data', async () => {
      await mkService(s, 'rp.web');
      await mkInstance(s, 'rp.web', 'rp-1.example', '10.80.0.1');
      await replica.feed.catchUp();
      const answers = await Promise.all(Array.from({ length: 40 }, () => fresh(port, '/api/v1/health')));
      assert.ok(served[0]! > 0 && served[1]! > 0, `connections per replica: ${served.join(' / ')}`);
      const revisions = new Set(answers.map((a) => (JSON.parse(a) as { revision: number }).revision));
      assert.equal(revisions.size, 1, 'both replicas are at the same revision');
    });

    test('both DNS servers bound the shared port and answer alike', async (t) => {
      const dnsPort = s.services.dns?.port();
      assert.ok(dnsPort && dnsPort === replica.dns?.port(), 'the replica bound the same DNS port');
      // Asynchronously: the DNS servers answer from this very process.
      const dig = await run('dig', ['@127.0.0.1', '-p', String(dnsPort), '+short', '+tries=1', '+time=5', 'web.rp.svc.canopy', 'A']).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      if (dig === undefined) return t.skip('dig not installed (apt-get install dnsutils)');
      assert.equal(dig.stdout.trim(), '10.80.0.1');
    });
  });
}
