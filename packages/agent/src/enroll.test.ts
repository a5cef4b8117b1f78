/**
 * Enrollment from the agent's side: `canopy-agent enroll` on a test host trades the install
 * request's token for a credential and runs; a spent token is refused with the reason; and
 * `npm run agent` (local.ts) enrolls this machine with the CLI's saved login and runs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canMakeTestHosts, createTestHosts, mkNodes, startTestServer, testBackends, type TestHosts, type TestServer } from '@canopy/server/testing';
import { runOn, until } from './testing.ts';

const noHosts = canMakeTestHosts();
const NODE = process.execPath;
const MAIN = join(import.meta.dirname, 'main.ts');
const LOCAL = join(import.meta.dirname, 'local.ts');
// PostgreSQL when CANOPY_TEST_DATABASE_URL is set (the server-side suite covers both), else PGlite.
const backend = testBackends().at(-1);

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

describe('canopy-agent enroll on a test host', { skip: noHosts && `test hosts unavailable: ${noHosts}` }, () => {
  let s: TestServer;
  let hosts: TestHosts;
  let url: string;
  const tmp = mkdtempSync(join(tmpdir(), 'enroll-'));
  const procs: ChildProcess[] = [];

  before(async () => {
    hosts = createTestHosts(1, 'enroll');
    s = await startTestServer(backend!, { agents: { heartbeatMs: 500 } });
    await s.app.listen({ host: hosts.gateway, port: 0 });
    url = `http://${hosts.gateway}:${(s.app.server.address() as { port: number }).port}`;
    await mkNodes(s, 'corp.enroll');
  });
  after(async () => {
    for (const p of procs) await stop(p);
    await s?.close();
    hosts?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('enroll trades the token for a credential, creates the machine from its facts, and runs', async () => {
    const h = hosts.hosts[0]!;
    const req = await s.call('POST', '/api/v1/provisioning', { hostname: h.hostname, nodePath: 'corp.enroll', enroll: true, idc: 'dc7' });
    const state = join(tmp, 'state');
    const a = h.spawn([NODE, MAIN, 'enroll', '--url', url, '--token', req.body.enrollmentToken, '--state-dir', state, '--hostname', h.hostname, '--insecure-http'], { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(a);
    const log: string[] = [];
    for (const st of [a.stdout, a.stderr]) st?.on('data', (d: Buffer) => log.push(String(d)));
    const machine = async () => (await s.call('GET', `/api/v1/machines/${h.hostname}`)).body;
    await until('the machine to exist', async () => (await s.call('GET', `/api/v1/machines/${h.hostname}`)).status === 200);
    const m = await machine();
    await until('the enrolled agent connected', () => s.services.dispatcher.connectedHere(m.id), 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${log.join('')}`);
    });
    assert.deepEqual([m.status, m.idc, m.nodes], ['online', 'dc7', ['corp.enroll']]);
    assert.deepEqual(m.ips, [h.address], "the test host's one address, read by the agent");
    assert.ok(m.cpuCores >= 1 && m.memoryMb > 0, JSON.stringify(m));
    const saved = JSON.parse(readFileSync(join(state, 'credential.json'), 'utf8')) as { token: string; hostname: string };
    assert.equal(statSync(join(state, 'credential.json')).mode & 0o777, 0o600);
    assert.equal(saved.hostname, h.hostname);
    assert.equal(log.join('').includes(saved.token), false, 'the credential is never logged');
    assert.equal(log.join('').includes(req.body.enrollmentToken), false, 'nor the enrollment token');
    await stop(a);

    const again = await runOn(h, [NODE, MAIN, 'enroll', '--url', url, '--token', req.body.enrollmentToken, '--state-dir', join(tmp, 'again'), '--hostname', h.hostname, '--insecure-http', '--no-run']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /enrollment failed: this enrollment token was already used/);
  });
});

describe('npm run agent (local.ts)', () => {
  let s: TestServer;
  let url: string;
  let config: string;
  const tmp = mkdtempSync(join(tmpdir(), 'local-agent-'));
  const state = join(tmp, 'agent');

  /** local.ts with only the CLI's saved login to go on (no CANOPY_URL/CANOPY_TOKEN). */
  function local(args: string[]) {
    const env = { PATH: process.env['PATH'], HOME: tmp, CANOPY_CONFIG: config };
    const proc = spawn(NODE, [LOCAL, '--hostname', 'dev-box-1', '--state-dir', state, ...args], { env, cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    for (const st of [proc.stdout, proc.stderr]) st.on('data', (d: Buffer) => (out += String(d)));
    const done = new Promise<number | null>((r) => proc.once('close', r));
    return { proc, done, out: () => out };
  }

  before(async () => {
    s = await startTestServer(backend!, { agents: { heartbeatMs: 500 } });
    await s.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(s.app.server.address() as { port: number }).port}`;
    config = join(tmp, 'config.json');
    const token = (await s.call('POST', '/api/v1/tokens', { name: 'newcomer' })).body.token as string;
    writeFileSync(config, JSON.stringify({ url, token }), { mode: 0o600 });
  });
  after(async () => {
    await s?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('enrolls this machine under a new `local` node with the saved login, then runs; a rerun just runs', async () => {
    const first = local(['--no-run']);
    assert.equal(await first.done, 0, first.out());
    assert.match(first.out(), /enrolled dev-box-1 under local/);
    const m = (await s.call('GET', '/api/v1/machines/dev-box-1')).body;
    assert.deepEqual([m.status, m.nodes], ['online', ['local']]);

    const run = local([]);
    try {
      await until('the local agent connected', () => s.services.dispatcher.connectedHere(m.id), 60_000).catch((err: Error) => {
        throw new Error(`${err.message}\n${run.out()}`);
      });
      assert.match(run.out(), /already enrolled as dev-box-1/);
    } finally {
      await stop(run.proc);
    }
  });

  test('without a login it says how to log in, and creates nothing', async () => {
    writeFileSync(join(tmp, 'empty.json'), '{}');
    const proc = spawn(NODE, [LOCAL, '--hostname', 'dev-box-2', '--state-dir', join(tmp, 'other'), '--no-run'], { env: { PATH: process.env['PATH'], HOME: tmp, CANOPY_CONFIG: join(tmp, 'empty.json') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err += String(d)));
    assert.equal(await new Promise((r) => proc.once('close', r)), 2);
    assert.match(err, /npx canopy login/);
    assert.equal((await s.call('GET', '/api/v1/machines/dev-box-2')).status, 404);
  });
});
