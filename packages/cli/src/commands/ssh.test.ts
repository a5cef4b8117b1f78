/** `canopy ssh-access`, `ssh-cert`, `ssh --print`, `ssh-break-glass` and `login-audit`, as a subprocess against a live server. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runNode, CLI_MAIN, startCliServer, type CliServer } from '../cli-harness.test-util.ts';

const noKeygen = spawnSync('ssh-keygen', ['-?']).error ? 'ssh-keygen not installed (openssh-client)' : undefined;

describe('canopy SSH commands against a live server', { skip: noKeygen }, () => {
  let c: CliServer;
  let devToken = '';
  const canopy = (args: string[], token = c.token) =>
    runNode(CLI_MAIN, args, { env: { PATH: process.env['PATH'], HOME: c.dir, CANOPY_CONFIG: join(c.dir, 'none.json'), CANOPY_URL: c.url, CANOPY_TOKEN: token }, cwd: c.dir });

  before(async () => {
    c = await startCliServer('ssh');
    mkdirSync(join(c.dir, '.ssh'), { mode: 0o700 });
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'dev@laptop', '-f', join(c.dir, '.ssh', 'id_ed25519')]);
    const pub = readFileSync(join(c.dir, '.ssh', 'id_ed25519.pub'), 'utf8').trim();
    await c.s.call('POST', '/api/v1/nodes', { parentPath: null, name: 'cs' });
    await c.s.call('POST', '/api/v1/nodes', { parentPath: 'cs', name: 'web' });
    assert.equal((await c.s.call('POST', '/api/v1/machines', { hostname: 'cs-web-1', ips: ['198.51.100.20'] })).status, 201);
    assert.ok((await c.s.call('PUT', '/api/v1/nodes/cs.web/machines/cs-web-1')).status < 300);
    assert.equal((await c.s.call('POST', '/api/v1/users', { username: 'cs-dev', sshKeys: [pub], password: 'password-1234' })).status, 201);
    assert.equal((await c.s.call('POST', '/api/v1/grants', { user: 'cs-dev', role: 'developer', nodePath: 'cs' })).status, 201);
    devToken = (await c.s.call('POST', '/api/v1/tokens', { name: 'dev' }, { token: await c.s.login('cs-dev', 'password-1234') })).body.token as string;
  });
  after(async () => {
    await c.s.close();
    rmSync(c.dir, { recursive: true, force: true });
  });

  test('ssh-access lists who may log in below a node and through which grant', async () => {
    const r = await canopy(['ssh-access', 'cs.web']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /cs-dev +cs-dev +no +1 +developer@cs/);
    const json = JSON.parse((await canopy(['ssh-access', 'cs.web', '--json'])).stdout);
    assert.equal(json.users[0].grants[0].node, 'cs');
  });

  test('ssh-cert signs the default key: KEY-cert.pub with the user as key id', async () => {
    const r = await canopy(['ssh-cert', '--valid', '600', '--json'], devToken);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.principals, ['cs-dev']);
    const shown = spawnSync('ssh-keygen', ['-L', '-f', join(c.dir, '.ssh', 'id_ed25519-cert.pub')], { encoding: 'utf8' }).stdout;
    assert.match(shown, /Key ID: "cs-dev"/);
    assert.match(shown, new RegExp(`Serial: ${out.serial}`));
    const revoked = await canopy(['ssh-cert-revoke', String(out.serial)], devToken);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /revoked certificate/);
    assert.deepEqual((await c.s.call('GET', '/api/v1/machines/cs-web-1/ssh')).body.revokedSerials, [out.serial]);
  });

  test('ssh HOST picks the account and trusts only the host CA', async () => {
    const r = await canopy(['ssh', 'cs-web-1', '--print', 'uptime'], devToken);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /StrictHostKeyChecking=yes -l cs-dev 198\.51\.100\.20 -- uptime/);
    assert.match(readFileSync(join(c.dir, '.canopy', 'known_hosts'), 'utf8'), /^@cert-authority \* ssh-ed25519 /);
    const none = await canopy(['ssh', 'cs-web-1', '--print']);
    assert.equal(none.code, 1, 'the admin has no grant there');
  });

  test('ssh-break-glass writes the private key once, mode 600', async () => {
    const out = join(c.dir, 'glass');
    const r = await canopy(['ssh-break-glass', 'cs', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.match(spawnSync('ssh-keygen', ['-y', '-f', out], { encoding: 'utf8' }).stdout, /^ssh-ed25519 /);
    assert.ok(existsSync(out));
  });

  test('login-audit reads the logins under a node; bad input is refused', async () => {
    const r = await canopy(['login-audit', '--under', 'cs', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), []);
    assert.match((await canopy(['login-audit', '--under', 'cs'])).stdout, /no logins/);
    const bad = await canopy(['login-audit', '--under', 'Not A Path']);
    assert.equal(bad.code, 1);
  });
});
