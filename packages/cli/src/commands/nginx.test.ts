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
    // A log directory that does not exist: nginx -t cannot open the domain's logs.
    await s.call('PUT', '/api/v1/nginx/clusters/shop.edge', { domains: ['shop.example.com'], listenAddress: '127.0.0.1', logDir: '/nonexistent/shop/logs' });
    const refused = await run(['nginx', 'apply', 'shop.edge', '-m', 'logs']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /error: nginx -t rejected the generated configuration \(config_invalid\)/);
    assert.match(refused.stderr, /\/nonexistent\/shop\/logs/);
    await s.call('PUT', '/api/v1/nginx/clusters/shop.edge', { domains: ['shop.example.com'], listenAddress: '127.0.0.1' });
    await s.call('PUT', '/api/v1/nodes/shop.web/nginx', { domainUris: [{ domain: 'shop.example.com', uri: '/' }], port: 9001 });
    assert.equal((await run(['nginx', 'apply', 'shop.edge', '-m', 'port 9001'])).code, 0);
    const rb = await run(['nginx', 'rollback', 'shop.edge', '1', '--json']);
    assert.equal(rb.code, 0, rb.stderr);
    assert.deepEqual([JSON.parse(rb.stdout).version.version, JSON.parse(rb.stdout).version.rollbackOf], [3, 1]);
    const bad = await run(['nginx', 'plan', 'shop/../x']);
    assert.equal(bad.code, 1);
  });

  test('domain set/ls/show, service set/show keep what flags do not name; a delegation lets another team attach', async () => {
    await s.call('POST', '/api/v1/nodes', { parentPath: null, name: 'lab' });
    await s.call('POST', '/api/v1/nodes', { parentPath: 'lab', name: 'x' });
    const made = await run(['nginx', 'domain', 'set', 'cli.example.com', '--port', '8080', '--owner', 'shop']);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /^created cli\.example\.com \(ports 8080, owner shop\)$/m);
    assert.match((await run(['nginx', 'domain', 'ls'])).stdout, /^cli\.example\.com +8080 +shop +-$/m);
    const set = await run(['nginx', 'service', 'set', 'shop.web', '--route', 'cli.example.com/api/', '--port', '9100', '--balance', 'least_conn', '--attr', 'keepalive=16']);
    assert.equal(set.code, 0, set.stderr);
    const kept = await run(['nginx', 'service', 'set', 'shop.web', '--port', '9101']);
    assert.match(kept.stdout, /^changed nginx settings of shop\.web: cli\.example\.com\/api\/ → shop_web:9101$/m);
    const shown = await run(['nginx', 'service', 'show', 'shop.web']);
    assert.match(shown.stdout, /^balance: +least_conn$/m);
    assert.match(shown.stdout, /^attributes: +keepalive=16$/m);

    await s.call('POST', '/api/v1/users', { username: 'bob', password: 'password-123' });
    await s.call('POST', '/api/v1/grants', { user: 'bob', role: 'admin', nodePath: 'lab' });
    const bob = await s.login('bob', 'password-123');
    const asBob = (args: string[]) => runNode(CLI_MAIN, args, { env: { PATH: process.env['PATH'], HOME: dir, CANOPY_CONFIG: join(dir, 'none.json'), CANOPY_URL: url, CANOPY_TOKEN: bob }, cwd: dir });
    const attack = await asBob(['nginx', 'service', 'set', 'lab.x', '--route', 'cli.example.com/lab/', '--port', '8000']);
    assert.equal(attack.code, 1);
    assert.match(attack.stderr, /not allowed: attaching a URI/);
    const del = await run(['nginx', 'domain', 'delegate', 'cli.example.com', '/lab/', 'lab']);
    assert.match(del.stdout, /^delegated cli\.example\.com\/lab\/ to lab \(#1\)$/m);
    assert.equal((await asBob(['nginx', 'service', 'set', 'lab.x', '--route', 'cli.example.com/lab/', '--port', '8000'])).code, 0);
    assert.match((await run(['nginx', 'domain', 'show', 'cli.example.com'])).stdout, /^1 +\/lab\/ +lab +admin /m);
    assert.equal((await run(['nginx', 'domain', 'undelegate', 'cli.example.com', '1'])).code, 0);
    const inUse = await run(['nginx', 'domain', 'rm', 'cli.example.com']);
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, /still used by service (shop\.web|lab\.x)/);
    assert.equal((await run(['nginx', 'service', 'rm', 'lab.x'])).code, 0);
    assert.equal((await run(['nginx', 'service', 'set', 'shop.web', '--route', 'shop.example.com/'])).code, 0);
    assert.equal((await run(['nginx', 'domain', 'rm', 'cli.example.com'])).code, 0);
  });

  test('plan names whose change each part is; diff shows two versions apart, with --json', async () => {
    assert.equal((await run(['nginx', 'service', 'set', 'shop.web', '--balance', 'ip_hash'])).code, 0);
    const plan = await run(['nginx', 'plan', 'shop.edge']);
    assert.match(plan.stdout, /^# service shop\.web changed by admin at \S+Z$/m);
    assert.match(plan.stdout, /^\+ {4}ip_hash;$/m);
    const applied = JSON.parse((await run(['nginx', 'apply', 'shop.edge', '-m', 'ip_hash', '--json'])).stdout);
    const n = applied.version.version as number;
    const diff = await run(['nginx', 'diff', 'shop.edge', String(n - 1), String(n)]);
    assert.equal(diff.code, 0, diff.stderr);
    assert.match(diff.stdout, /^\+ {4}ip_hash;$/m);
    const json = JSON.parse((await run(['nginx', 'diff', 'shop.edge', String(n), String(n - 1), '--json'])).stdout);
    assert.deepEqual([json.from, json.to, json.removed > 0], [n, n - 1, true]);
    const rb = await run(['nginx', 'rollback', 'shop.edge', String(n - 1)]);
    assert.match(rb.stdout, /^settings restored: service shop\.web$/m);
    assert.equal((await run(['nginx', 'diff', 'shop.edge', '1', '99'])).code, 1);
  });
});
