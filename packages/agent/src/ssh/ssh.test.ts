/**
 * SSH access end to end: a real sshd (Debian's openssh-server) in a test host's namespace, run with
 * the agent's generated settings, and the real `ssh` client from the root namespace. Test hosts
 * share this machine's /etc/passwd and sudoers.d, so accounts carry a distinctive prefix and a
 * random uid range, and everything is removed in after().
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { canMakeTestHosts, mkNodes, testBackends, type TestServer } from '@canopy/server/testing';
import { sql } from 'drizzle-orm';
import { signCertificate } from '../../../server/src/ssh/index.ts';
import { freePort, startFleet, until, type Fleet } from '../testing.ts';

const noHosts = canMakeTestHosts();
const CANOPY = join(import.meta.dirname, '../../../../node_modules/.bin/canopy');
const noSshd = !existsSync('/usr/sbin/sshd') || spawnSync('ssh', ['-V']).status !== 0 ? 'openssh-server/openssh-client not installed' : undefined;
const noSudo = spawnSync('visudo', ['-V']).status !== 0 ? 'sudo (visudo) not installed' : undefined;
const skip = noHosts ?? noSshd ?? noSudo;
if (skip) console.error(`ssh.test.ts SKIPPED: ${skip}`);

/** ssh from the root namespace; the remote command prints the account and whether sudo works. */
function sshAs(key: string, account: string, host: string, port: number, opts: string[] = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null']): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn('ssh', ['-i', key, '-p', String(port), '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', ...opts, '-o', 'ConnectTimeout=20', '-o', 'LogLevel=ERROR', `${account}@${host}`, 'id -un; sudo -n true 2>/dev/null && echo SUDO-OK; true'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += String(d)));
    p.stderr.on('data', (d: Buffer) => (out += String(d)));
    p.once('close', (code) => resolve({ code, out }));
  });
}

function keypair(dir: string, name: string): { key: string; pub: string } {
  const key = join(dir, name);
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key]);
  return { key, pub: readFileSync(`${key}.pub`, 'utf8').trim() };
}

for (const backend of testBackends().slice(0, 1)) {
  describe(`SSH logins from the tree, real sshd (${backend.name})`, { skip: skip && `skipped: ${skip}` }, () => {
    const tag = randomBytes(3).toString('hex');
    const prefix = `cnys${tag}`;
    const users = { dev: `${prefix}dev`, ops: `${prefix}ops`, out: `${prefix}out` };
    const shared = `${prefix}work`;
    const uidBase = 3_000_000 + Math.floor(Math.random() * 900) * 1000;
    // Root-owned, 0755 up to /: sshd refuses a keys command anywhere else (so not in /tmp).
    const dir = mkdtempSync(`/var/lib/canopy-ssh-test-${tag}-`);
    chmodSync(dir, 0o755);
    const keys = mkdtempSync('/tmp/canopy-ssh-keys-');
    const sudoers = `/etc/sudoers.d/canopytest${tag}`;
    const sshdConfig = join(dir, 'canopy.conf');
    const sshdLog = join(dir, 'sshd.log');
    let fleet: Fleet;
    let s: TestServer;
    let sshd: ChildProcess | undefined;
    let port = 0;
    let serverClosed = false;
    let addr = '';
    const k = { dev: keypair(keys, 'dev'), ops: keypair(keys, 'ops'), out: keypair(keys, 'out') };
    const login = (who: keyof typeof k, account: string = users[who]) => sshAs(k[who].key, account, addr, port);

    before(async () => {
      writeFileSync(sshdLog, '');
      spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
      fleet = await startFleet({
        backend,
        count: 1,
        name: `ssh-${backend.name}`,
        server: { ssh: { uidBase, sharedUidBase: uidBase + 900, debounceMs: 20 } },
        agent: () => ({ args: ['--ssh-dir', join(dir, 'agent'), '--ssh-sudoers', sudoers, '--ssh-sshd-config', sshdConfig, '--ssh-command-user', 'nobody', '--ssh-auth-log', sshdLog, '--ssh-sshd-pid', join(dir, 'sshd.pid'), '--ssh-host-key', join(dir, 'host_key.pub')] }),
      });
      s = fleet.s;
      const host = fleet.hosts.hosts[0]!;
      addr = host.address;
      await mkNodes(s, `${prefix}.web`);
      assert.ok((await s.call('PUT', `/api/v1/nodes/${prefix}.web/machines/${host.hostname}`)).status < 300);
      for (const who of ['dev', 'ops', 'out'] as const) assert.equal((await s.call('POST', '/api/v1/users', { username: users[who], sshKeys: [k[who].pub], password: 'password-1234' })).status, 201);
      await until('the agent wrote sshd settings', () => existsSync(sshdConfig));
      // The host's own sshd: its config includes the agent's file first (sshd keeps the first value).
      port = await freePort('127.0.0.1');
      writeFileSync(join(dir, 'sshd_config'), `Include ${sshdConfig}\nPort ${port}\nListenAddress ${addr}\nHostKey ${join(dir, 'host_key')}\nPidFile ${join(dir, 'sshd.pid')}\nUsePAM no\nLogLevel VERBOSE\n`);
      if (!existsSync('/run/sshd')) spawnSync('mkdir', ['-m', '0755', '/run/sshd']);
      const check = spawnSync('/usr/sbin/sshd', ['-t', '-f', join(dir, 'sshd_config')], { encoding: 'utf8' });
      assert.equal(check.status, 0, `sshd -t: ${check.stderr}`);
      sshd = host.spawn(['/usr/sbin/sshd', '-D', '-f', join(dir, 'sshd_config'), '-E', sshdLog], { stdio: 'ignore' });
      await until('sshd listening', () => readFileSync(sshdLog, 'utf8').includes('Server listening'));
    });

    after(async () => {
      if (sshd && sshd.exitCode === null) {
        const gone = new Promise((r) => sshd!.once('exit', r));
        sshd.kill('SIGTERM');
        await gone;
      }
      // Not fleet.close(): the last test closed the server already.
      for (const a of fleet?.agents ?? []) await a.stop();
      if (!serverClosed) await s?.close();
      fleet?.hosts.close();
      for (const name of [...Object.values(users), shared]) spawnSync('userdel', ['-r', name], { stdio: 'ignore' });
      rmSync(sudoers, { force: true });
      rmSync(dir, { recursive: true, force: true });
      rmSync(keys, { recursive: true, force: true });
    });

    const grant = async (user: string, role: string, node: string) => {
      const r = await s.call('POST', '/api/v1/grants', { user, role, nodePath: node });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body.id as number;
    };

    test('machine.login on an ancestor lets a user in as their own account, without sudo', async () => {
      await grant(users.dev, 'developer', prefix);
      await until('dev logs in', async () => (await login('dev')).out.includes(users.dev));
      const r = await login('dev');
      assert.equal(r.code, 0, r.out);
      assert.equal(r.out.trim(), users.dev);
      assert.ok(!existsSync(`/home/${users.dev}/.ssh/authorized_keys`), 'no key is written to authorized_keys');
      assert.equal(spawnSync('getent', ['passwd', users.dev], { encoding: 'utf8' }).stdout.split(':')[2], String(uidBase + (await s.call('GET', '/api/v1/users')).body.items.find((u: { username: string }) => u.username === users.dev).id));
    });

    test('a user without a grant is refused, and so is an unknown or malformed account', async () => {
      const r = await login('out');
      assert.notEqual(r.code, 0);
      assert.match(r.out, /Permission denied/);
      const bad = await login('dev', 'a;touch${IFS}/tmp/x');
      assert.notEqual(bad.code, 0);
      assert.ok(!readFileSync(join(dir, 'agent', 'calls.log'), 'utf8').includes('touch'), 'the keys command never saw the name');
    });

    test('machine.sudo adds sudo through the drop-in visudo accepted', async () => {
      await grant(users.ops, 'ops', `${prefix}.web`);
      await until('ops logs in with sudo', async () => (await login('ops')).out.includes('SUDO-OK'));
      assert.match(readFileSync(sudoers, 'utf8'), new RegExp(`^${users.ops} ALL=`, 'm'));
      assert.doesNotMatch(readFileSync(sudoers, 'utf8'), new RegExp(users.dev));
    });

    test('a revoked grant is refused within moments', async () => {
      const id = await grant(users.out, 'developer', `${prefix}.web`);
      await until('out logs in', async () => (await login('out')).code === 0);
      assert.equal((await s.call('DELETE', `/api/v1/grants/${id}`)).status, 204);
      const t0 = Date.now();
      await until('out is refused', async () => (await login('out')).code !== 0);
      console.log(`revoke → refused by sshd in ${Date.now() - t0} ms (including ssh's own round trips)`);
    });

    test('a shared account below a node; a bad one is refused with 400 and changes nothing', async () => {
      const bad = await s.call('PUT', `/api/v1/nodes/${prefix}.web/ssh/settings`, { loginAs: 'x;rm -rf /' });
      assert.equal(bad.status, 400);
      assert.equal((await s.call('GET', `/api/v1/nodes/${prefix}.web/ssh/settings`)).body.own.loginAs, null);
      assert.equal((await s.call('PUT', `/api/v1/nodes/${prefix}.web/ssh/settings`, { loginAs: shared })).status, 200);
      await until('dev logs in as the shared account', async () => (await login('dev', shared)).out.includes(shared));
      assert.notEqual((await login('dev')).code, 0, 'their own account no longer opens');
      const access = (await s.call('GET', `/api/v1/nodes/${prefix}.web/ssh/access`)).body;
      const dev = access.users.find((u: { username: string }) => u.username === users.dev);
      assert.equal(dev.account, shared);
      assert.equal(dev.grants[0].node, prefix);
      assert.equal((await s.call('PUT', `/api/v1/nodes/${prefix}.web/ssh/settings`, { loginAs: null })).status, 200);
      await until('dev back on their own account', async () => (await login('dev')).code === 0);
    });

    test('every login is reported: accepted and refused, per node and per user', async () => {
      await until('logins reported', async () => {
        const r = await s.call('GET', `/api/v1/ssh/logins?under=${prefix}&limit=200`);
        const items = r.body.items as { user: string | null; account: string; result: string }[];
        return items.some((e) => e.user === users.dev && e.result === 'accepted') && items.some((e) => e.account === users.out && e.result === 'refused');
      });
      const mine = await s.call('GET', `/api/v1/ssh/logins?user=${users.ops}`);
      assert.ok(mine.body.items.length > 0 && mine.body.items.every((e: { user: string }) => e.user === users.ops));
      assert.equal((await s.call('GET', '/api/v1/ssh/logins?under=no.such.node')).status, 404);
    });

    test('a break-glass key opens root and its use is reported loudly', async () => {
      const r = await s.call('POST', `/api/v1/nodes/${prefix}/ssh/break-glass`);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const key = join(keys, 'glass');
      writeFileSync(key, r.body.privateKey, { mode: 0o600 });
      assert.equal((await s.call('GET', `/api/v1/nodes/${prefix}/ssh/settings`)).body.breakGlass[0].fingerprint, r.body.fingerprint);
      await until('break-glass logs in', async () => (await sshAs(key, 'root', addr, port)).out.trim().startsWith('root'));
      await until('break-glass use reported', async () => {
        const l = await s.call('GET', `/api/v1/ssh/logins?under=${prefix}&limit=200`);
        return l.body.items.some((e: { method: string; breakGlassNode: string }) => e.method === 'break-glass' && e.breakGlassNode === prefix);
      });
      const audit = await s.call('GET', '/api/v1/audit?limit=50');
      assert.ok(JSON.stringify(audit.body).includes('ssh.break_glass.used'));
    });

    test('a user certificate logs in (host verified by the host CA) and stops working once revoked or expired', async () => {
      await until('sshd trusts the user CA and presents its host certificate', () => {
        const conf = readFileSync(sshdConfig, 'utf8');
        return conf.includes('TrustedUserCAKeys') && conf.includes('HostCertificate');
      });
      const token = await s.login(users.dev, 'password-1234');
      const cert = keypair(keys, 'devcert');
      const signed = await s.call('POST', '/api/v1/ssh/certificates', { publicKey: cert.pub }, { token });
      assert.equal(signed.status, 201, JSON.stringify(signed.body));
      assert.ok(signed.body.principals.includes(users.dev));
      writeFileSync(`${cert.key}-cert.pub`, `${signed.body.certificate}\n`);
      const inspected = spawnSync('ssh-keygen', ['-L', '-f', `${cert.key}-cert.pub`], { encoding: 'utf8' });
      assert.match(inspected.stdout, new RegExp(`Key ID: "${users.dev}"`));
      const knownHosts = join(keys, 'known_hosts');
      writeFileSync(knownHosts, String((await s.call('GET', '/api/v1/ssh/known-hosts')).body));
      const strict = ['-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', `CertificateFile=${cert.key}-cert.pub`];
      await until('the certificate logs in, host checked', async () => (await sshAs(cert.key, users.dev, addr, port, strict)).out.trim() === users.dev);
      await until('the login is reported as a certificate', async () => {
        const l = await s.call('GET', `/api/v1/ssh/logins?user=${users.dev}&limit=200`);
        return l.body.items.some((e: { method: string }) => e.method === 'cert');
      });
      assert.equal((await s.call('DELETE', `/api/v1/ssh/certificates/${signed.body.serial}`, undefined, { token })).status, 200);
      await until('the revoked certificate is refused', async () => (await sshAs(cert.key, users.dev, addr, port, strict)).code !== 0);
      assert.match(spawnSync('ssh-keygen', ['-Q', '-f', join(dir, 'agent', 'revoked.krl'), `${cert.key}-cert.pub`], { encoding: 'utf8' }).stdout, /REVOKED/);

      // `canopy ssh HOST` signs a fresh certificate, finds the account and checks the host by the host CA alone.
      const apiToken = (await s.call('POST', '/api/v1/tokens', { name: 'cli' }, { token })).body.token as string;
      const home = mkdtempSync('/tmp/canopy-ssh-home-');
      const cli = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const p = spawn(CANOPY, ['ssh', '--key', cert.key, '--port', String(port), fleet.hosts.hosts[0]!.hostname, '--', 'id', '-un'], { env: { PATH: process.env['PATH'], HOME: home, CANOPY_URL: fleet.url, CANOPY_TOKEN: apiToken, CANOPY_CONFIG: join(home, 'none.json') }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        p.stdout.on('data', (d: Buffer) => (out += String(d)));
        p.stderr.on('data', (d: Buffer) => (out += String(d)));
        p.once('close', (code) => resolve({ code, out }));
      });
      rmSync(home, { recursive: true, force: true });
      assert.equal(cli.code, 0, cli.out);
      assert.equal(cli.out.trim(), users.dev);

      // The same key with a certificate past its validity (signed by the same CA) is refused by sshd.
      const found = await s.database.db.execute(sql`SELECT seed, public_key AS "publicKey" FROM ssh_cas WHERE kind = 'user'`);
      const ca = (found as unknown as { rows: { seed: string; publicKey: string }[] }).rows[0]!;
      const expired = signCertificate({ seed: Buffer.from(ca.seed, 'base64'), pub: Buffer.from(ca.publicKey.split(' ')[1]!, 'base64').subarray(-32) }, { key: cert.pub, kind: 'user', serial: 999_999n, keyId: users.dev, principals: [users.dev], validAfter: new Date(Date.now() - 7_200_000), validBefore: new Date(Date.now() - 3_600_000) });
      writeFileSync(`${cert.key}-cert.pub`, `${expired}\n`);
      const late = await sshAs(cert.key, users.dev, addr, port, strict);
      assert.notEqual(late.code, 0, late.out);
    });

    test('with the agent killed (-9) logins still work, and are reported once it is back', async () => {
      const agent = fleet.agents[0]!;
      await until('the agent saved where it reads sshd\'s log', () => existsSync(join(agent.stateDir, 'ssh-tail.json')));
      await agent.kill9();
      const r = await login('ops');
      assert.equal(r.code, 0, r.out);
      const before = (await s.call('GET', `/api/v1/ssh/logins?user=${users.ops}&limit=1000`)).body.items.length as number;
      agent.restart();
      await until('the login made while the agent was dead is reported', async () => (await s.call('GET', `/api/v1/ssh/logins?user=${users.ops}&limit=1000`)).body.items.length > before);
    });

    test('with the control center gone, logins work from the cache until it expires; break-glass still works', async () => {
      assert.equal((await s.call('PUT', `/api/v1/nodes/${prefix}/ssh/settings`, { cacheSeconds: 6 })).status, 200);
      await until('the agent took the short cache', () => {
        const until = Number(readFileSync(join(dir, 'agent', 'valid-until'), 'utf8'));
        return until - Date.now() / 1000 <= 7;
      });
      serverClosed = true;
      await s.close();
      assert.equal((await login('dev')).code, 0, 'from the cache');
      await until('the cache expired', async () => (await login('dev')).code !== 0);
      const glass = join(keys, 'glass');
      assert.ok((await sshAs(glass, 'root', addr, port)).out.trim().startsWith('root'));
      assert.ok(readFileSync(join(dir, 'agent', 'calls.log'), 'utf8').includes(' expired'));
    });
  });
}
