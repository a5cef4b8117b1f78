/** `canopy enc` as Puppet runs it: a subprocess against a live server, judged by stdout, stderr and exit code. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { TestServer } from '../../../server/src/testing/index.ts';
import { CLI_MAIN as MAIN, ENC_MAIN, runNode, startCliServer, type Run } from '../cli-harness.test-util.ts';
import { printEnc } from './enc.ts';

describe('canopy enc against a live server', () => {
  let s: TestServer;
  let url = '';
  let token = '';
  let dir = '';

  function run(entry: string, args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
    return runNode(entry, args, { env: { PATH: process.env['PATH'], HOME: dir, CANOPY_CONFIG: join(dir, 'none.json'), CANOPY_URL: url, CANOPY_TOKEN: token, ...env }, cwd: dir });
  }

  before(async () => {
    ({ s, url, dir, token } = await startCliServer('enc-cli'));
    await s.call('PUT', '/api/v1/puppet/classes', ['base', 'profile::web']);
    await s.call('POST', '/api/v1/nodes', { parentPath: null, name: 'shop' });
    await s.call('POST', '/api/v1/nodes', { parentPath: 'shop', name: 'web' });
    await s.call('PUT', '/api/v1/nodes/shop/puppet', { classes: { base: {} }, parameters: { motd: 'line one\nline "two": !yes' } });
    await s.call('PUT', '/api/v1/nodes/shop.web/puppet', { classes: { base: {}, 'profile::web': {} } });
    await s.call('POST', '/api/v1/machines', { hostname: 'web1.shop.example', nodes: ['shop.web'], zone: 'z1', idc: 'dc9' });
  });
  after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('puppet classes ls and defaults show|set work from the CLI, with --json', async () => {
    const classes = await run(MAIN, ['puppet', 'classes', 'ls']);
    assert.equal(classes.code, 0, classes.stderr);
    assert.match(classes.stdout, /^base$/m);
    assert.match(classes.stdout, /^profile::web$/m);
    assert.match(classes.stdout, /2 class\(es\) from upload/);
    const listed = JSON.parse((await run(MAIN, ['puppet', 'classes', 'ls', '--json'])).stdout);
    assert.deepEqual(listed.classes.map((c: { name: string }) => c.name).sort(), ['base', 'profile::web']);
    const set = await run(MAIN, ['puppet', 'defaults', 'set', '--class', 'base', '--environment', 'staging', '--json']);
    assert.equal(set.code, 0, set.stderr);
    assert.deepEqual([JSON.parse(set.stdout).classes, JSON.parse(set.stdout).environment], [{ base: {} }, 'staging']);
    assert.match((await run(MAIN, ['puppet', 'defaults', 'show'])).stdout, /^classes: +base\nenvironment: staging$/m);
    const unknown = await run(MAIN, ['puppet', 'defaults', 'set', '--class', 'nosuch::class']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /nosuch::class/);
    const refresh = await run(MAIN, ['puppet', 'classes', 'refresh']);
    assert.equal(refresh.code, 1, 'no classes URL is configured');
    assert.match(refresh.stderr, /^error: /);
  });

  test('prints the YAML answer on stdout and exits 0', async () => {
    const r = await run(ENC_MAIN, ['web1.shop.example']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.deepEqual(parseYaml(r.stdout), {
      classes: { base: {}, 'profile::web': {} },
      parameters: { canopy_node: 'shop.web', canopy_zone: 'z1', canopy_idc: 'dc9', motd: 'line one\nline "two": !yes' },
      environment: 'production',
    });
  });

  test('the full CLI prints the same answer', async () => {
    const direct = await run(ENC_MAIN, ['web1.shop.example']);
    const full = await run(MAIN, ['enc', 'web1.shop.example']);
    assert.equal(full.code, 0, full.stderr);
    assert.equal(full.stdout, direct.stdout);
  });

  test('--explain says where things came from; --json prints the whole answer', async () => {
    const explain = await run(ENC_MAIN, ['--explain', 'web1.shop.example']);
    assert.equal(explain.code, 0, explain.stderr);
    assert.match(explain.stdout, /profile::web {2}← set on shop\.web/);
    assert.match(explain.stdout, /motd = .* ← set on shop/);
    const json = await run(MAIN, ['enc', 'web1.shop.example', '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).reason, 'single-node');
  });

  test('an unknown host: nothing on stdout, a message on stderr, exit 1', async () => {
    for (const entry of [ENC_MAIN, MAIN]) {
      const r = await run(entry, entry === MAIN ? ['enc', 'ghost.shop.example'] : ['ghost.shop.example']);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /machine 'ghost\.shop\.example' not found \(HTTP 404\)/);
    }
  });

  test('an unreachable server, a missing or a wrong token: exit 1 with the reason', async () => {
    const closed = await freePort();
    const down = await run(ENC_MAIN, ['web1.shop.example'], { CANOPY_URL: `http://127.0.0.1:${closed}` });
    assert.equal(down.code, 1);
    assert.equal(down.stdout, '');
    assert.match(down.stderr, /cannot reach http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    const none = await run(ENC_MAIN, ['web1.shop.example'], { CANOPY_TOKEN: undefined });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no API token/);
    const wrong = await run(ENC_MAIN, ['web1.shop.example'], { CANOPY_TOKEN: 'cnt_wrong' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /invalid or expired token \(HTTP 401\)/);
    const usage = await run(ENC_MAIN, []);
    assert.equal(usage.code, 1);
  });

  test('a server that accepts but never answers fails the call after the timeout', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((sock) => void sockets.add(sock));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const lines: string[] = [];
    const io = { out: (t: string) => lines.push(`out:${t}`), err: (t: string) => lines.push(`err:${t}`) };
    try {
      const code = await printEnc({ url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, token: 'x', hostname: 'web1.shop.example' }, io, 200);
      assert.equal(code, 1);
      assert.deepEqual(lines.length, 1);
      assert.match(lines[0]!, /^err:canopy enc: web1\.shop\.example: cannot reach .*: no answer within 0\.2 s/);
    } finally {
      for (const sock of sockets) sock.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('reads the URL and token from the config file when the environment has none', async () => {
    const cfg = join(dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ url, token }), { mode: 0o600 });
    const r = await run(ENC_MAIN, ['web1.shop.example'], { CANOPY_URL: undefined, CANOPY_TOKEN: undefined, CANOPY_CONFIG: cfg });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /profile::web/);
  });
});

/** A loopback port nothing listens on (bound, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
