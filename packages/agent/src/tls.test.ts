/**
 * HTTPS between agents and the control center, with an openssl-made CA: an agent given the CA
 * connects; enrollment without a CA pins the certificate it sees and the agent then refuses any
 * other; plain HTTP to a host that is not loopback is refused unless asked for.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get as httpsGet, type Server } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canMakeTestHosts, createTestHosts, mkNodes, startTestServer, testBackends, type TestHost, type TestHosts, type TestServer } from '@canopy/server/testing';
import { enrollHosts, runOn, until } from './testing.ts';

const noHosts = canMakeTestHosts();
const noOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'openssl not installed (Debian: openssl)';
  }
})();
const NODE = process.execPath;
const MAIN = join(import.meta.dirname, 'main.ts');
const SERVER_MAIN = join(import.meta.dirname, '../../server/src/main.ts');

/** A CA, a server certificate it signed for `ip`, and an unrelated self-signed one for the same ip. */
function makeCerts(dir: string, ip: string) {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=canopy test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  ssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=canopy');
  writeFileSync(join(dir, 'server.ext'), `subjectAltName=IP:${ip}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext');
  ssl('req', '-x509', ...ec, '-keyout', 'other.key', '-out', 'other.pem', '-days', '2', '-subj', '/CN=canopy', '-addext', `subjectAltName=IP:${ip}`);
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return { caFile: join(dir, 'ca.pem'), server: { cert: read('server.pem') + read('ca.pem'), key: read('server.key') }, serverPem: read('server.pem'), other: { cert: read('other.pem'), key: read('other.key') } };
}

describe('HTTPS to the control center', { skip: (noHosts && `test hosts unavailable: ${noHosts}`) || noOpenssl }, () => {
  let s: TestServer;
  let hosts: TestHosts;
  let url: string;
  let certs: ReturnType<typeof makeCerts>;
  let impostor: Server | undefined;
  const tmp = mkdtempSync(join(tmpdir(), 'tls-'));
  const procs: ChildProcess[] = [];
  const [backend] = testBackends();

  /** `canopy-agent ARGS` on `host`, its output collected; stopped by pid in `stop`. */
  function agent(host: TestHost, args: string[]) {
    const proc = host.spawn([NODE, MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const log: string[] = [];
    for (const st of [proc.stdout, proc.stderr]) st?.on('data', (d: Buffer) => log.push(String(d)));
    procs.push(proc);
    return { proc, log, text: () => log.join('') };
  }
  async function stop(proc: ChildProcess): Promise<void> {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }

  before(async () => {
    hosts = createTestHosts(2, 'tls');
    certs = makeCerts(tmp, hosts.gateway);
    s = await startTestServer(backend!, { agents: { heartbeatMs: 500 } }, { https: certs.server });
    await s.app.listen({ host: hosts.gateway, port: 0 });
    url = `https://${hosts.gateway}:${(s.app.server.address() as { port: number }).port}`;
    await mkNodes(s, 'corp.tls');
  });
  after(async () => {
    for (const p of procs) await stop(p);
    impostor?.close();
    await s?.close();
    hosts?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('an agent given the CA (--ca) connects over HTTPS; without it, the certificate is refused', async () => {
    const h = hosts.hosts[0]!;
    const cred = (await enrollHosts(s, [h])).get(h.hostname)!;
    const bare = agent(h, ['run', '--url', url, '--token', cred.token, '--state-dir', join(tmp, 'bare'), '--hostname', h.hostname]);
    await until('the agent without a CA to refuse the certificate', () => /session backoff: .*(self-signed|unable to (get|verify))/i.test(bare.text()));
    await stop(bare.proc);
    const a = agent(h, ['run', '--url', url, '--token', cred.token, '--state-dir', join(tmp, 'with-ca'), '--hostname', h.hostname, '--ca', certs.caFile]);
    await until('the agent with --ca connected', () => s.services.dispatcher.connectedHere(cred.id), 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${a.text()}`);
    });
    await stop(a.proc);

    // Enrolling with --ca checks the chain and the name (the certificate is for the gateway's IP).
    const req = await s.call('POST', '/api/v1/provisioning', { hostname: h.hostname, nodePath: 'corp.tls', enroll: true });
    const e = await runOn(h, [NODE, MAIN, 'enroll', '--url', url, '--token', req.body.enrollmentToken, '--state-dir', join(tmp, 'ca-enroll'), '--hostname', h.hostname, '--ca', certs.caFile, '--no-run']);
    assert.equal(e.code, 0, e.stderr);
    const saved = JSON.parse(readFileSync(join(tmp, 'ca-enroll', 'credential.json'), 'utf8')) as { fingerprint?: string };
    assert.equal(saved.fingerprint, undefined, 'nothing pinned when a CA is given');
  });

  test('enrollment over HTTPS without --ca pins the certificate, and the agent refuses a different one', async () => {
    const h = hosts.hosts[1]!;
    const state = join(tmp, 'pinned');
    const req = await s.call('POST', '/api/v1/provisioning', { hostname: h.hostname, nodePath: 'corp.tls', enroll: true });
    const e = await runOn(h, [NODE, MAIN, 'enroll', '--url', url, '--token', req.body.enrollmentToken, '--state-dir', state, '--hostname', h.hostname, '--no-run']);
    assert.equal(e.code, 0, e.stderr);
    const saved = JSON.parse(readFileSync(join(state, 'credential.json'), 'utf8')) as { fingerprint: string };
    assert.equal(saved.fingerprint, new X509Certificate(certs.serverPem).fingerprint256.replaceAll(':', '').toLowerCase());
    const machineId = (await s.call('GET', `/api/v1/machines/${h.hostname}`)).body.id as number;

    const a = agent(h, ['run', '--state-dir', state]);
    await until('the pinned agent connected', () => s.services.dispatcher.connectedHere(machineId), 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${a.text()}`);
    });
    await stop(a.proc);

    // Someone else answers with a certificate of their own for the same address.
    impostor = createServer(certs.other, (_req, res) => res.end());
    await new Promise<void>((r) => impostor!.listen(0, hosts.gateway, r));
    const fake = `https://${hosts.gateway}:${(impostor.address() as { port: number }).port}`;
    const b = agent(h, ['run', '--state-dir', state, '--url', fake]);
    await until('the agent to refuse the impostor', () => /not the one pinned at enrollment/.test(b.text())).catch((err: Error) => {
      throw new Error(`${err.message}\n${b.text()}`);
    });
    assert.doesNotMatch(b.text(), /session connected/);
    await stop(b.proc);
  });

  test('npm start with CANOPY_TLS_CERT/CANOPY_TLS_KEY serves HTTPS only', { timeout: 120_000 }, async () => {
    const free = createNetServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
    const port = (free.address() as { port: number }).port;
    await new Promise((r) => free.close(r));
    writeFileSync(join(tmp, 'main-cert.pem'), certs.server.cert);
    writeFileSync(join(tmp, 'main-key.pem'), certs.server.key, { mode: 0o600 });
    const env = {
      PATH: process.env['PATH'],
      CANOPY_PORT: String(port),
      CANOPY_DATA_DIR: join(tmp, 'main-data'),
      CANOPY_ADMIN_PASSWORD: 'tls-admin-password',
      CANOPY_WEB_DIR: join(tmp, 'no-console'),
      CANOPY_ACCESS_LOG: 'off',
      CANOPY_TLS_CERT: join(tmp, 'main-cert.pem'),
      CANOPY_TLS_KEY: join(tmp, 'main-key.pem'),
    };
    const server = spawn(NODE, [SERVER_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(server);
    let out = '';
    for (const st of [server.stdout, server.stderr]) st.on('data', (d: Buffer) => (out += String(d)));
    await until('the server listening', () => /Canopy listening on https:\/\//.test(out), 90_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${out}`);
    });
    const get = (u: string, opts: { ca?: string }) =>
      new Promise<number>((resolve, reject) => {
        httpsGet(u, { ...opts, checkServerIdentity: () => undefined }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).once('error', reject);
      });
    assert.equal(await get(`https://127.0.0.1:${port}/api/v1/health`, { ca: readFileSync(certs.caFile, 'utf8') }), 200);
    await assert.rejects(get(`https://127.0.0.1:${port}/api/v1/health`, {}), /self-signed|unable to (get|verify)/);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/api/v1/health`));
    await stop(server);
  });

  test('plain http:// to an address that is not loopback is refused without --insecure-http', async () => {
    const h = hosts.hosts[0]!;
    const plain = `http://${hosts.gateway}:1`;
    const run = await runOn(h, [NODE, MAIN, 'run', '--url', plain, '--token', 'cnm_x', '--state-dir', join(tmp, 'plain-run')]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /refusing plain HTTP to .*--insecure-http/);
    const en = await runOn(h, [NODE, MAIN, 'enroll', '--url', plain, '--token', 'cne_x', '--state-dir', join(tmp, 'plain-enroll')]);
    assert.equal(en.code, 2);
    assert.match(en.stderr, /enrollment failed: refusing plain HTTP/);
  });
});
