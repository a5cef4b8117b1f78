/** `canopy machine enroll` against a live server: the request, its token once, and the line to run. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestServer } from '../../../server/src/testing/index.ts';
import { CLI_MAIN, runNode, startCliServer, type Run } from '../cli-harness.test-util.ts';
import { installCommands } from './enroll.ts';

describe('canopy machine enroll', () => {
  let s: TestServer;
  let url = '';
  let token = '';
  let dir = '';
  const run = (args: string[]): Promise<Run> =>
    runNode(CLI_MAIN, args, { env: { PATH: process.env['PATH'], HOME: dir, CANOPY_CONFIG: join(dir, 'none.json'), CANOPY_URL: url, CANOPY_TOKEN: token }, cwd: dir });

  before(async () => {
    ({ s, url, dir, token } = await startCliServer('enroll-cli'));
    await s.call('POST', '/api/v1/nodes', { parentPath: null, name: 'shop' });
  });
  after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('creates an install request with a token and prints the install line; the token enrolls', async () => {
    const r = await run(['machine', 'enroll', 'web-9.shop', '--under', 'shop', '--zone', 'z1']);
    assert.equal(r.code, 0, r.stderr);
    const tok = /enrollment token \(shown once\): (cne_[A-Za-z0-9_-]+)/.exec(r.stdout)?.[1];
    assert.ok(tok, r.stdout);
    assert.match(r.stdout, new RegExp(`^  curl -fsS ${url}/agent/install\\.sh \\| sudo sh -s -- --token ${tok}$`, 'm'));
    const list = await s.call('GET', '/api/v1/provisioning?state=open&hostname=web-9.shop');
    assert.equal(list.body.items[0].zone, 'z1');
    assert.equal(list.body.items[0].enroll, true);
    const facts = { hostname: 'x', ips: [], cpus: 1, memoryBytes: 0, disks: [], os: '', kernel: '', serial: null, macs: [], bootId: null, bootedAt: null };
    assert.equal((await s.call('POST', '/api/v1/agent/enroll', { token: tok, facts }, { token: null })).status, 201);
  });

  test('--json answers the request, the token and both commands', async () => {
    const r = await run(['machine', 'enroll', 'web-10.shop', '--under', 'shop', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.match(out.enrollmentToken, /^cne_/);
    assert.equal(out.request.hostname, 'web-10.shop');
    assert.equal(out.request.enrollmentToken, undefined);
    assert.match(out.commands.agent, /^canopy-agent enroll --url http:\/\/127\.0\.0\.1:\d+ --token cne_/);
  });

  test('refuses a bad host name, a missing --under and an unknown node, creating nothing', async () => {
    const bad = await run(['machine', 'enroll', 'Bad_Name', '--under', 'shop']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /not a host name/);
    const noUnder = await run(['machine', 'enroll', 'web-11.shop']);
    assert.notEqual(noUnder.code, 0);
    assert.match(noUnder.stderr, /--under/);
    const nowhere = await run(['machine', 'enroll', 'web-12.shop', '--under', 'no.such']);
    assert.equal(nowhere.code, 1);
    for (const h of ['web-11.shop', 'web-12.shop']) assert.equal((await s.call('GET', `/api/v1/provisioning?hostname=${h}`)).body.items.length, 0);
  });

  test('adds --insecure-http for plain HTTP beyond loopback only', () => {
    assert.match(installCommands('http://10.0.0.5:7070', 'cne_t').curl, /--token cne_t --insecure-http$/);
    assert.doesNotMatch(installCommands('http://127.0.0.1:7070', 'cne_t').curl, /insecure/);
    assert.doesNotMatch(installCommands('https://10.0.0.5', 'cne_t').curl, /insecure/);
  });
});
