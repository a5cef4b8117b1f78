import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { mkInstance, mkMachine, mkService } from '../discovery/fixtures.test-util.ts';
import { createServices } from '../services.ts';
import { createDnsServer, type DnsServer } from './index.ts';

const run = promisify(execFile);
const hasDig = spawnSync('dig', ['-v']).status === 0;
const SKIP = hasDig ? false : 'dig not installed (Debian package dnsutils): the DNS server is NOT tested';
if (!hasDig) console.error(`\n*** ${SKIP} ***\n`);

const sorted = (s: string) => s.trim().split('\n').filter(Boolean).sort();

for (const backend of testBackends()) {
  describe(`DNS server answered with dig (${backend.name})`, { skip: SKIP }, () => {
    let s: TestServer;
    let dns: DnsServer;
    const dig = async (...args: string[]) => (await run('dig', ['@127.0.0.1', '-p', String(dns.port()), '+time=5', '+tries=1', ...args])).stdout;
    const status = (out: string) => /status: (\w+)/.exec(out)?.[1];

    before(async () => {
      s = await startTestServer(backend);
      await mkService(s, 'corp.ops.web', { ports: [{ name: 'http', port: 8080 }, { name: 'admin', port: 9090 }], zoneAware: true });
      await mkInstance(s, 'corp.ops.web', 'web-a1', '10.0.1.1', { weight: 3 }, 'z1');
      await mkInstance(s, 'corp.ops.web', 'web-a2', '10.0.1.2', {}, 'z1');
      await mkInstance(s, 'corp.ops.web', 'web-b1', '10.0.2.1', {}, 'z2');
      await mkInstance(s, 'corp.ops.web', 'web-b6', '2001:db8::b6', {}, 'z2');
      // The machine dig queries from with `-b 127.0.0.2`.
      await mkMachine(s, 'client-z1', '127.0.0.2', [], 'z1');
      dns = createDnsServer(s.services, { port: 0, host: '127.0.0.1', ttl: 5 });
      await dns.start();
    });
    after(async () => {
      await dns?.stop();
      await s?.close();
    });

    test('A answers the healthy instances of every zone to a client on no known machine', async () => {
      assert.deepEqual(sorted(await dig('web.ops.corp.svc.canopy', 'A', '+short')), ['10.0.1.1', '10.0.1.2', '10.0.2.1']);
      const full = await dig('web.ops.corp.svc.canopy', 'A');
      assert.match(full, /flags: qr aa rd;/, 'authoritative');
      assert.match(full, /web\.ops\.corp\.svc\.canopy\.\s+5\s+IN\s+A\s+10\.0\.1\.1/, 'TTL 5');
    });

    test('AAAA answers the IPv6 instances', async () => {
      assert.deepEqual(sorted(await dig('web.ops.corp.svc.canopy', 'AAAA', '+short')), ['2001:db8::b6']);
    });

    test('SRV answers port and weight per instance, with the targets\' addresses in the additional section', async () => {
      const out = await dig('_http._tcp.web.ops.corp.svc.canopy', 'SRV', '+noall', '+answer', '+additional');
      const srv = [...out.matchAll(/IN\s+SRV\s+(\d+) (\d+) (\d+) (\S+)/g)].map((m) => `${m[1]} ${m[2]} ${m[3]} ${m[4]}`).sort();
      assert.deepEqual(srv, [
        '0 1 8080 0a000102.addr.svc.canopy.',
        '0 1 8080 0a000201.addr.svc.canopy.',
        '0 1 8080 20010db80000000000000000000000b6.addr.svc.canopy.',
        '0 3 8080 0a000101.addr.svc.canopy.',
      ]);
      assert.match(out, /0a000101\.addr\.svc\.canopy\.\s+5\s+IN\s+A\s+10\.0\.1\.1/);
      assert.match(out, /20010db80000000000000000000000b6\.addr\.svc\.canopy\.\s+5\s+IN\s+AAAA\s+2001:db8::b6/);
      assert.deepEqual(sorted(await dig('0a000201.addr.svc.canopy', 'A', '+short')), ['10.0.2.1']);
    });

    test('a port no instance serves is NODATA; a port the service lacks is NXDOMAIN', async () => {
      const admin = await dig('_admin._tcp.web.ops.corp.svc.canopy', 'SRV');
      assert.equal(status(admin), 'NOERROR');
      assert.match(admin, /ANSWER: 0,/);
      assert.equal(status(await dig('_grpc._tcp.web.ops.corp.svc.canopy', 'SRV')), 'NXDOMAIN');
    });

    test('an alias answers a CNAME chain followed by the target\'s addresses', async () => {
      await mkService(s, 'corp.ops.web2');
      assert.equal((await s.call('PUT', '/api/v1/aliases/corp.ops.www', { target: 'corp.ops.web' })).status, 201);
      assert.equal((await s.call('PUT', '/api/v1/aliases/corp.ops.old', { target: 'corp.ops.www' })).status, 201);
      const lines = (await dig('old.ops.corp.svc.canopy', 'A', '+short')).trim().split('\n');
      assert.deepEqual(lines.slice(0, 2), ['www.ops.corp.svc.canopy.', 'web.ops.corp.svc.canopy.']);
      assert.deepEqual(lines.slice(2).sort(), ['10.0.1.1', '10.0.1.2', '10.0.2.1']);
      assert.deepEqual((await dig('old.ops.corp.svc.canopy', 'CNAME', '+short')).trim().split('\n'), ['www.ops.corp.svc.canopy.']);
      const srv = (await dig('_http._tcp.www.ops.corp.svc.canopy', 'SRV', '+short')).trim().split('\n');
      assert.equal(srv[0], '_http._tcp.web.ops.corp.svc.canopy.', 'SRV names follow the alias with their prefix');
      assert.equal(srv.length, 5);
      // Switching the alias switches the answer.
      assert.equal((await s.call('PUT', '/api/v1/aliases/corp.ops.www', { target: 'corp.ops.web2' })).status, 200);
      assert.deepEqual((await dig('old.ops.corp.svc.canopy', 'A', '+short')).trim().split('\n'), ['www.ops.corp.svc.canopy.', 'web2.ops.corp.svc.canopy.']);
    });

    test('an unknown name is NXDOMAIN with the SOA; a tree node that is no service is NODATA; other zones are REFUSED', async () => {
      const nx = await dig('nope.ops.corp.svc.canopy', 'A');
      assert.equal(status(nx), 'NXDOMAIN');
      assert.match(nx, /AUTHORITY SECTION:\nsvc\.canopy\.\s+5\s+IN\s+SOA\s+ns\.svc\.canopy\. hostmaster\.svc\.canopy\. \d+ 3600 600 86400 5/);
      const nodata = await dig('ops.corp.svc.canopy', 'A');
      assert.equal(status(nodata), 'NOERROR');
      assert.match(nodata, /ANSWER: 0, AUTHORITY: 1/);
      assert.equal(status(await dig('example.com', 'A')), 'REFUSED');
      assert.match(await dig('svc.canopy', 'SOA', '+short'), /^ns\.svc\.canopy\. hostmaster\.svc\.canopy\. \d+ 3600 600 86400 5/);
    });

    test('answers over TCP as over UDP', async () => {
      assert.deepEqual(sorted(await dig('web.ops.corp.svc.canopy', 'A', '+short', '+tcp')), ['10.0.1.1', '10.0.1.2', '10.0.2.1']);
    });

    test('a client whose address is a z1 machine gets z1 instances of a zone-aware service', async () => {
      assert.deepEqual(sorted(await dig('-b', '127.0.0.2', 'web.ops.corp.svc.canopy', 'A', '+short')), ['10.0.1.1', '10.0.1.2']);
      // The machine moving to z2 moves its answers.
      assert.equal((await s.call('PATCH', '/api/v1/machines/client-z1', { zone: 'z2' })).status, 200);
      assert.deepEqual(sorted(await dig('-b', '127.0.0.2', 'web.ops.corp.svc.canopy', 'A', '+short')), ['10.0.2.1']);
    });

    test('a drained instance is gone from the next answer, and back once undrained', async () => {
      const drain = (status: string) => s.call('PUT', '/api/v1/services/corp.ops.web/instances/web-a2/8080', { status });
      assert.equal((await drain('draining')).status, 200);
      assert.deepEqual(sorted(await dig('web.ops.corp.svc.canopy', 'A', '+short')), ['10.0.1.1', '10.0.2.1']);
      assert.equal((await drain('up')).status, 200);
      assert.deepEqual(sorted(await dig('web.ops.corp.svc.canopy', 'A', '+short')), ['10.0.1.1', '10.0.1.2', '10.0.2.1']);
    });

    test('a UDP answer over 512 bytes without EDNS is truncated, and dig gets it whole over TCP', async () => {
      await mkService(s, 'corp.ops.big');
      for (let k = 1; k <= 40; k++) await mkInstance(s, 'corp.ops.big', `big-${k}`, `10.9.0.${k}`);
      const truncated = await dig('big.ops.corp.svc.canopy', 'A', '+noedns', '+ignore');
      assert.match(truncated, /flags: qr aa tc rd;/);
      assert.match(truncated, /ANSWER: 0,/);
      assert.equal(sorted(await dig('big.ops.corp.svc.canopy', 'A', '+noedns', '+short')).length, 40, 'retried over TCP');
      assert.equal(sorted(await dig('big.ops.corp.svc.canopy', 'A', '+bufsize=4096', '+short')).length, 40, 'fits the EDNS size');
    });
  });
}

describe('DNS lifecycle in the composition root', () => {
  test('services.start() binds UDP and TCP on one port and services.stop() releases it', async () => {
    const database = await testBackends()[0]!.open();
    const services = createServices(database, { dns: { port: 0 } });
    try {
      await services.start();
      const dns = services.dns!;
      assert.equal(dns.state(), 'running');
      assert.ok(dns.port() > 0);
      if (hasDig) assert.equal(/status: (\w+)/.exec((await run('dig', ['@127.0.0.1', '-p', String(dns.port()), '+tcp', 'svc.canopy', 'SOA'])).stdout)?.[1], 'NOERROR');
      await services.stop();
      assert.equal(dns.state(), 'stopped');
    } finally {
      await database.close();
    }
  });
});
