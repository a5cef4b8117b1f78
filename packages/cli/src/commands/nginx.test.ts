/** `canopy nginx` as an operator runs it: a subprocess against a live server, judged by output, files and exit code. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestServer } from '../../../server/src/testing/index.ts';
import { findProgram } from '../../../server/src/nginx/index.ts';
import { CLI_MAIN, runNode, startCliServer, type Run } from '../cli-harness.test-util.ts';
const missing = findProgram('nginx') === null ? 'nginx not installed: apt-get install nginx-light' : '';
if (missing) console.error(`\n!!! SKIPPING canopy nginx CLI tests: ${missing}\n`);

describe('canopy nginx against a live server', { skip: missing || false }, () => {
  let s: TestServer;
  let url = '';
  let token = '';
  let dir = '';

  function run(args: string[]): Promise<Run> {
    return runNode(CLI_MAIN, args, { env: { PATH: process.env['PATH'], HOME: dir, CANOPY_CONFIG: join(dir, 'none.json'), CANOPY_URL: url, CANOPY_TOKEN: token }, cwd: dir });
  }

  before(async () => {
    ({ s, url, dir, token } = await startCliServer('nginx-cli'));
    for (const [parentPath, name] of [[null, 'shop'], ['shop', 'web'], ['shop', 'edge']] as const) await s.call('POST', '/api/v1/nodes', { parentPath, name });
    await s.call('PUT', '/api/v1/domains/shop.example.com', { ports: [{ port: 8080 }] });
    await s.call('PUT', '/api/v1/nodes/shop.web/nginx', { domainUris: [{ domain: 'shop.example.com', uri: '/' }], port: 9000 });
    await s.call('PUT', '/api/v1/nginx/clusters/shop.edge', { domains: ['shop.example.com'], listenAddress: '127.0.0.1' });
  });
  after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('plan shows the diff, apply publishes v1, render writes its files, versions lists it', async () => {
    const plan = await run(['nginx', 'plan', 'shop.edge']);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /^\+upstream shop_web \{$/m);
    const applied = await run(['nginx', 'apply', 'shop.edge', '-m', 'first']);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /^published v1 of shop\.edge \(\+\d+ -0 lines\)$/m);
    const again = await run(['nginx', 'apply', 'shop.edge', '-m', 'again', '--json']);
    assert.equal(JSON.parse(again.stdout).published, false);
    const out = join(dir, 'conf');
    const render = await run(['nginx', 'render', 'shop.edge', '--out', out]);
    assert.equal(render.code, 0, render.stderr);
    assert.deepEqual(readdirSync(out).sort(), ['00-canopy-http.conf', '10-canopy-upstreams.conf', '20-canopy-servers.conf']);
    assert.match(readFileSync(join(out, '20-canopy-servers.conf'), 'utf8'), /server_name "shop\.example\.com";/);
    const versions = await run(['nginx', 'versions', 'shop.edge']);
    assert.match(versions.stdout, /^v1 +\S+ +admin +first$/m);
  });

  test('a refused config fails with exit 1 and shows what nginx -t said; rollback republishes', async () => {
    await s.call('PUT', '/api/v1/domains/shop.example.com', { ports: [{ port: 8443, ssl: true }], sslCertPath: '/nonexistent/shop.pem', sslCertKeyPath: '/nonexistent/shop.key' });
    const refused = await run(['nginx', 'apply', 'shop.edge', '-m', 'tls']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /error: nginx -t rejected the generated configuration \(config_invalid\)/);
    assert.match(refused.stderr, /\/nonexistent\/shop\.pem/);
    await s.call('PUT', '/api/v1/domains/shop.example.com', { ports: [{ port: 8080 }] });
    await s.call('PUT', '/api/v1/nodes/shop.web/nginx', { domainUris: [{ domain: 'shop.example.com', uri: '/' }], port: 9001 });
    assert.equal((await run(['nginx', 'apply', 'shop.edge', '-m', 'port 9001'])).code, 0);
    const rb = await run(['nginx', 'rollback', 'shop.edge', '1', '--json']);
    assert.equal(rb.code, 0, rb.stderr);
    assert.deepEqual([JSON.parse(rb.stdout).version.version, JSON.parse(rb.stdout).version.rollbackOf], [3, 1]);
    const bad = await run(['nginx', 'plan', 'shop/../x']);
    assert.equal(bad.code, 1);
  });
});
