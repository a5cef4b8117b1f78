/**
 * The install the control center serves: its script is valid shell that carries only safe values,
 * and `curl URL/agent/install.sh | sh -s -- --token T …` on a test host installs the runtime and the
 * agent bundle, enrolls the host, and the installed agent connects and runs work.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { ExecSpec, TaskState } from '@canopy/core';
import { canMakeTestHosts, createTestHosts, mkNodes, startTestServer, testBackends, type TestHosts, type TestServer } from '@canopy/server/testing';
import { isInstallUrl, renderInstallScript } from './install/index.ts';
import { runOn, until } from './testing.ts';

const noHosts = canMakeTestHosts();
const SHA = 'a'.repeat(64);

describe('the install script', () => {
  test('is valid POSIX shell (sh -n) and carries the URL single-quoted', () => {
    const script = renderInstallScript({ url: 'https://canopy.example.com:7443', bundleSha256: SHA, nodeSha256: SHA });
    const r = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(script, /^CANOPY_URL='https:\/\/canopy\.example\.com:7443'$/m);
  });

  test('refuses URLs that are not a bare origin and digests that are not SHA-256', () => {
    for (const url of ["http://a'b", 'http://h/x', 'http://u@h', 'ftp://h', 'http://h;rm -rf /', 'http://h:1/?q', 'http://$(id)']) {
      assert.equal(isInstallUrl(url), false, url);
      assert.throws(() => renderInstallScript({ url, bundleSha256: SHA, nodeSha256: SHA }), /URL/);
    }
    assert.throws(() => renderInstallScript({ url: 'http://h', bundleSha256: "x'; id #", nodeSha256: SHA }), /SHA-256/);
    assert.equal(isInstallUrl('http://[fd00::1]:7070'), true);
  });

  test('rejects unsafe arguments before touching anything', () => {
    const script = renderInstallScript({ url: 'http://127.0.0.1:9', bundleSha256: SHA, nodeSha256: SHA });
    const tmp = mkdtempSync(join(tmpdir(), 'install-args-'));
    try {
      const cases: [string[], RegExp][] = [
        [[], /--token is required/],
        [['--token', 'cne_x;id'], /characters a token does not/],
        [['--token', 'cne_x', '--prefix', 'relative/dir'], /absolute paths/],
        [['--token', 'cne_x', '--prefix', `${tmp}/a b`], /only letters/],
        [['--token', 'cne_x', '--state-dir', `${tmp}/$(id)`], /only letters/],
        [['--token', 'cne_x', '--hostname', 'Bad Name'], /--hostname must be/],
        [['--token', 'cne_x', '--bogus'], /unknown option/],
      ];
      for (const [args, why] of cases) {
        const r = spawnSync('sh', ['-s', '--', ...args], { input: script, encoding: 'utf8' });
        assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, why);
      }
      assert.equal(existsSync(join(tmp, 'a b')), false);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('install from the control center on a test host', { skip: noHosts && `test hosts unavailable: ${noHosts}` }, () => {
  let s: TestServer;
  let hosts: TestHosts;
  let url: string;
  const tmp = mkdtempSync(join(tmpdir(), 'install-'));
  const [backend] = testBackends();

  before(async () => {
    hosts = createTestHosts(1, 'install');
    s = await startTestServer(backend!, { agents: { heartbeatMs: 500 } });
    await s.app.listen({ host: hosts.gateway, port: 0 });
    url = `http://${hosts.gateway}:${(s.app.server.address() as { port: number }).port}`;
    await mkNodes(s, 'corp.inst');
  });
  after(async () => {
    await s?.close();
    hosts?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('where systemd runs, it writes a unit that runs the agent and enables it', async () => {
    const h = hosts.hosts[0]!;
    const req = await s.call('POST', '/api/v1/provisioning', { hostname: 'install-unit', nodePath: 'corp.inst', enroll: true });
    const fake = join(tmp, 'systemd');
    for (const d of ['run', 'units', 'bin']) mkdirSync(join(fake, d), { recursive: true });
    // A stand-in systemctl that records how it was called.
    writeFileSync(join(fake, 'bin/systemctl'), `#!/bin/sh\necho "$@" >> ${join(fake, 'calls')}\n`, { mode: 0o755 });
    const env = `PATH=${join(fake, 'bin')}:$PATH CANOPY_SYSTEMD_RUN_DIR=${join(fake, 'run')} CANOPY_SYSTEMD_UNIT_DIR=${join(fake, 'units')}`;
    const prefix = join(tmp, 'unit-opt');
    const state = join(tmp, 'unit-state');
    const line = `curl -fsS ${url}/agent/install.sh | env ${env} sh -s -- --token ${req.body.enrollmentToken} --prefix ${prefix} --state-dir ${state} --hostname install-unit --insecure-http`;
    const r = await runOn(h, ['sh', '-c', line]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const unit = readFileSync(join(fake, 'units/canopy-agent.service'), 'utf8');
    assert.match(unit, new RegExp(`^ExecStart=${prefix}/bin/canopy-agent run --state-dir ${state} +--insecure-http$`, 'm'));
    assert.match(unit, /^KillMode=process$/m);
    assert.deepEqual(readFileSync(join(fake, 'calls'), 'utf8').trim().split('\n'), ['daemon-reload', 'enable --now canopy-agent.service']);
    assert.match(r.stdout, /running \(systemctl status canopy-agent\)/);
  });

  test('a Host header that is not a bare host is refused', async () => {
    for (const host of ["evil'host", 'a b', 'h/x']) {
      const r = await s.call('GET', '/agent/install.sh', undefined, { token: null, headers: { host } });
      assert.equal(r.status, 400, host);
      assert.match(r.body.detail, /CANOPY_PUBLIC_URL/);
    }
  });

  test('curl | sh installs, enrolls, and the installed agent connects and runs a task', { timeout: 300_000 }, async () => {
    const h = hosts.hosts[0]!;
    const req = await s.call('POST', '/api/v1/provisioning', { hostname: h.hostname, nodePath: 'corp.inst', enroll: true, zone: 'z1' });
    assert.equal(req.status, 201, JSON.stringify(req.body));
    const prefix = join(tmp, 'opt');
    const state = join(tmp, 'state');
    const line = `curl -fsS ${url}/agent/install.sh | sh -s -- --token ${req.body.enrollmentToken} --prefix ${prefix} --state-dir ${state} --hostname ${h.hostname} --insecure-http --no-start`;
    const r = await runOn(h, ['sh', '-c', line]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /enrolled as install-0/);
    assert.match(r.stdout, new RegExp(`run it with:\\n  ${prefix}/bin/canopy-agent run --state-dir ${state}`));
    assert.equal(statSync(join(state, 'credential.json')).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(state, 'credential.json'), 'utf8').includes('cnm_'), true);

    const m = (await s.call('GET', `/api/v1/machines/${h.hostname}`)).body;
    assert.deepEqual([m.status, m.zone, m.nodes], ['online', 'z1', ['corp.inst']]);
    assert.ok(m.ips.includes(h.address), `the host's own address from its facts: ${m.ips}`);
    assert.equal((await s.call('GET', `/api/v1/provisioning/${req.body.id}`)).body.state, 'bound');

    const agent = h.spawn([join(prefix, 'bin/canopy-agent'), 'run', '--state-dir', state, '--insecure-http'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const log: string[] = [];
    for (const st of [agent.stdout, agent.stderr]) st?.on('data', (d: Buffer) => log.push(String(d)));
    try {
      await until('the installed agent connected', () => s.services.dispatcher.connectedHere(m.id), 60_000).catch((err: Error) => {
        throw new Error(`${err.message}\n${log.join('')}`);
      });
      const [id] = await s.services.writer.run({ kind: 'system', id: null, name: 'test', superuser: true }, (w) =>
        s.services.dispatcher.createTasks(w, [{ machineId: m.id, kind: 'exec', spec: ExecSpec.parse({ argv: ['hostname'] }) }]),
      );
      const row = async () => ((await s.database.db.execute(sql`SELECT state, exit_code FROM tasks WHERE id = ${id!}`)) as unknown as { rows: { state: number; exit_code: number | null }[] }).rows[0]!;
      await until('the task to end', async () => (await row()).state >= TaskState.COMPLETE);
      assert.deepEqual(await row(), { state: TaskState.COMPLETE, exit_code: 0 });
    } finally {
      const exited = new Promise((resolve) => agent.once('exit', resolve));
      agent.kill('SIGTERM');
      await exited;
    }
  });
});
