/**
 * TLS domains apply although their certificates exist only on the nginx machines: the control
 * center's `nginx -t` checks with a stand-in pair, and what is published keeps the real paths.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { checkNginxConfig, findProgram } from './nginx-binary.ts';
import { expectStatus, fileOf, mkDiscoveryService, mkInstance, mkNodes } from './proxy-fixtures.test-util.ts';

const missing = findProgram('nginx') === null ? 'nginx not installed: apt-get install nginx-light' : findProgram('openssl') === null ? 'openssl not installed' : '';
if (missing) console.error(`\n!!! SKIPPING stand-in certificate tests: ${missing}\n`);

const CERT = '/etc/nginx/ssl/canopy-test-pay.crt';
const KEY = '/etc/nginx/ssl/canopy-test-pay.key';

describe('nginx -t with stand-in certificates', { skip: missing || false }, () => {
  test('a TLS server whose certificate files are absent here passes, says so, and the input is untouched', async () => {
    assert.ok(!existsSync(CERT) && !existsSync(KEY), 'the test needs certificate paths that do not exist');
    const content = `server {\n    listen 127.0.0.1:18443 ssl;\n    server_name "pay.test";\n    ssl_certificate "${CERT}";\n    ssl_certificate_key "${KEY}";\n    return 200;\n}\n`;
    const files = [{ path: 'pay.conf', content }];
    const r = await checkNginxConfig(files);
    assert.ok(r.ok, r.output);
    assert.match(r.output, /certificates checked with a stand-in pair on the control center \(\/etc\/nginx\/ssl\/canopy-test-pay\.crt, \/etc\/nginx\/ssl\/canopy-test-pay\.key/);
    assert.equal(files[0]?.content, content, 'the caller\'s files keep the real paths');
  });

  test('a broken TLS server still fails: only the certificate paths are stood in for', async () => {
    const content = `server {\n    listen 127.0.0.1:18444 ssl;\n    ssl_certificate "${CERT}";\n    ssl_certificate_key "${KEY}";\n    ssl_protocols TLSv9;\n}\n`;
    const r = await checkNginxConfig([{ path: 'bad.conf', content }]);
    assert.equal(r.ok, false, r.output);
    assert.match(r.output, /TLSv9/);
  });
});

for (const backend of testBackends()) {
  describe(`applying a TLS domain from the control center (${backend.name})`, { skip: missing || false }, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    test('applies though the certificate exists only on the nginx machines; the published files name the real paths', async () => {
      await mkNodes(s, 'tls.edge');
      await mkDiscoveryService(s, 'tls.pay', 8201);
      await mkInstance(s, 'tls.pay', 'tls-pay-a.example', '10.9.2.1', 8201);
      expectStatus(await s.call('PUT', '/api/v1/domains/pay.tls.example.com', { ports: [{ port: 8280 }, { port: 8243, ssl: true }], sslCertPath: CERT, sslCertKeyPath: KEY }), 201);
      expectStatus(await s.call('PUT', '/api/v1/nodes/tls.pay/nginx', { domainUris: [{ domain: 'pay.tls.example.com', uri: '/' }], port: 8201 }), 201);
      expectStatus(await s.call('PUT', '/api/v1/nginx/clusters/tls.edge', { domains: ['pay.tls.example.com'], listenAddress: '127.0.0.1' }), 201);
      const applied = expectStatus(await s.call('POST', '/api/v1/nginx/clusters/tls.edge/apply', { reason: 'tls' }), 200).body;
      assert.equal(applied.published, true);
      assert.match(applied.checkOutput, /stand-in pair on the control center/);
      assert.match(applied.checkOutput, /test is successful/);
      const servers = fileOf(expectStatus(await s.call('GET', '/api/v1/nginx/clusters/tls.edge/config'), 200).body, 'servers');
      assert.ok(servers.includes(`ssl_certificate "${CERT}";`), servers);
      assert.ok(servers.includes(`ssl_certificate_key "${KEY}";`), servers);
      assert.ok(!servers.includes('stand-in'), 'nothing of the stand-in reaches the published files');
      const v1 = expectStatus(await s.call('GET', '/api/v1/nginx/clusters/tls.edge/versions/1'), 200).body;
      assert.match(v1.checkOutput, /canopy-test-pay\.crt/, 'the version records which certificates were stood in for');
    });
  });
}
