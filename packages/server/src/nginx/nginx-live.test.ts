import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NginxClusterInput, NginxService, UpstreamServer } from './model.ts';
import { renderNginxConfig } from './compose.ts';
import { createSelfSignedCert, findProgram, freePorts, startNginx, type RunningNginx } from './nginx-binary.ts';

const missing = findProgram('nginx') === null ? 'nginx not installed: apt-get install nginx-light' : findProgram('openssl') === null ? 'openssl not installed' : '';
if (missing !== '') console.error(`\n!!! SKIPPING live nginx tests: ${missing}\n`);

/** A loopback HTTP server answering with its own name; `/slow` requests wait for `release()`. */
interface Backend {
  name: string;
  port: number;
  server: Server;
  /** Resolves when a `/slow` request has arrived. */
  slowArrived: Promise<void>;
  release(): void;
}

async function startBackend(name: string): Promise<Backend> {
  let arrived!: () => void;
  let release!: () => void;
  const slowArrived = new Promise<void>((r) => (arrived = r));
  const released = new Promise<void>((r) => (release = r));
  const server = createServer((req, res) => {
    const answer = () => res.end(name);
    if (req.url?.startsWith('/slow') === true) {
      arrived();
      void released.then(answer);
    } else answer();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { name, port: (server.address() as { port: number }).port, server, slowArrived, release };
}

interface Reply {
  status: number;
  body: string;
}

function get(port: number, host: string, path: string, opts: { localAddress?: string; tls?: boolean } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const common = { host: '127.0.0.1', port, path, headers: { Host: host }, agent: false as const, localAddress: opts.localAddress };
    const req = opts.tls === true
      ? httpsRequest({ ...common, servername: host, rejectUnauthorized: false })
      : httpRequest(common);
    req.once('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

async function names(n: number, port: number, host: string, path: string, localAddress?: string): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await get(port, host, path, localAddress === undefined ? {} : { localAddress })).body);
  return out;
}

function count(list: string[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const x of list) c[x] = (c[x] ?? 0) + 1;
  return c;
}

const up = (b: Backend, weight = 1, status: UpstreamServer['status'] = 'up'): UpstreamServer => ({ address: '127.0.0.1', port: b.port, weight, status });

function svc(upstream: string, uris: [string, string][], servers: UpstreamServer[], balance: NginxService['balance'] = { method: 'wrr' }): NginxService {
  return { upstream, port: 1, domainUris: uris.map(([domain, uri]) => ({ domain, uri })), balance, attributes: {}, servers };
}

describe('a live nginx on generated configs', { skip: missing !== '' ? missing : false }, () => {
  const backends: Record<string, Backend> = {};
  const running: RunningNginx[] = [];
  let certDir = '';
  let plain = 0;
  let tls = 0;
  let build: (plainPort: number, tlsPort: number) => NginxClusterInput;

  before(async () => {
    for (const n of ['web', 'api', 'v2', 'x', 'y', 'z', 'a', 'b']) backends[n] = await startBackend(n);
    const b = backends as Record<string, Backend> & { web: Backend; api: Backend; v2: Backend; x: Backend; y: Backend; z: Backend };
    [plain, tls] = (await freePorts(2)) as [number, number];
    certDir = await mkdtemp(join(tmpdir(), 'canopy-nginx-live-'));
    const cert = await createSelfSignedCert(certDir, ['api.test']);
    build = (plainPort, tlsPort) => ({
      domains: [
        { domain: 'shop.test', ports: [{ port: plainPort, ssl: false }] },
        { domain: 'api.test', ports: [{ port: plainPort, ssl: false }, { port: tlsPort, ssl: true }], sslCertPath: cert.certPath, sslCertKeyPath: cert.keyPath },
      ],
      services: [
        svc('corp_web', [['shop.test', '/']], [up(b.web)]),
        svc('corp_api', [['shop.test', '/api'], ['api.test', '/']], [up(b.api)]),
        svc('corp_v2', [['shop.test', '/api/v2']], [up(b.v2)]),
        svc('corp_wrr', [['shop.test', '/wrr']], [up(b.x, 3), up(b.y, 1)]),
        svc('corp_iphash', [['shop.test', '/iphash']], [up(b.x), up(b.y), up(b.z)], { method: 'ip_hash' }),
        svc('corp_hash', [['shop.test', '/hash']], [up(b.x), up(b.y), up(b.z)], { method: 'hash', key: '$arg_user', consistent: true }),
        svc('corp_down', [['shop.test', '/down']], [up(b.x), up(b.y, 5, 'draining'), up(b.z, 5, 'down')]),
        svc('corp_alldown', [['shop.test', '/alldown']], [up(b.x, 1, 'draining'), up(b.y, 1, 'down')]),
        svc('corp_none', [['shop.test', '/none']], []),
      ],
    });
    running.push(await startNginx(renderNginxConfig(build(plain, tls), { listenAddress: '127.0.0.1' }).files));
  });

  after(async () => {
    for (const n of running) await n.stop();
    for (const b of Object.values(backends)) {
      b.release();
      await new Promise((r) => b.server.close(r));
    }
    if (certDir !== '') await rm(certDir, { recursive: true, force: true });
  });

  const routing: [string, string, string][] = [
    ['shop.test', '/', 'web'],
    ['shop.test', '/x', 'web'],
    ['shop.test', '/ap', 'web'],
    ['shop.test', '/api', 'api'],
    ['shop.test', '/apix', 'api'],
    ['shop.test', '/api/v1', 'api'],
    ['shop.test', '/api/v2', 'v2'],
    ['shop.test', '/api/v2x/y', 'v2'],
    ['api.test', '/api/v2', 'api'],
    ['api.test', '/anything', 'api'],
  ];

  test('each domain and URI reaches its service by longest prefix; unknown hosts get 404', async () => {
    assert.deepEqual(running[0]?.ports, [plain, tls].sort((x, y) => x - y));
    for (const [host, path, want] of routing) assert.equal((await get(plain, host, path)).body, want, `${host}${path}`);
    assert.equal((await get(plain, 'unknown.test', '/')).status, 404);
  });

  test('the ssl port serves its domain with the certificate over SNI', async () => {
    const r = await get(tls, 'api.test', '/anything', { tls: true });
    assert.deepEqual(r, { status: 200, body: 'api' });
  });

  test('location order never changes routing: shortest-first locations route the same', async () => {
    const [p1, p2] = (await freePorts(2)) as [number, number];
    const files = renderNginxConfig(build(p1, p2), { listenAddress: '127.0.0.1' }).files.map((f) => ({
      ...f,
      content: f.content.replace(/((?: {4}location [^\n]*\{\n(?: {8}[^\n]*\n)* {4}\}\n)+)/g, (block) =>
        (block.match(/ {4}location [^\n]*\{\n(?: {8}[^\n]*\n)* {4}\}\n/g) ?? []).reverse().join('')),
    }));
    const shop = files.map((f) => f.content).join('').split('server_name "shop.test"')[1] ?? '';
    assert.ok(shop.indexOf('location "/api/v2"') > shop.indexOf('location "/api"'), 'the reversed config must put shorter URIs first');
    running.push(await startNginx(files));
    for (const [host, path, want] of routing) assert.equal((await get(p1, host, path)).body, want, `${host}${path}`);
  });

  test('weights hold over a cycle: 3:1 sends exactly 6 and 2 of 8 requests', async () => {
    assert.deepEqual(count(await names(8, plain, 'shop.test', '/wrr')), { x: 6, y: 2 });
  });

  test('ip_hash pins each client address to one backend, and different clients spread', async () => {
    const seen = new Set<string>();
    for (let i = 1; i <= 8; i++) {
      const got = new Set(await names(4, plain, 'shop.test', '/iphash', `127.0.${i}.1`));
      assert.equal(got.size, 1, `client 127.0.${i}.1 moved between ${[...got].join(', ')}`);
      seen.add([...got][0] as string);
    }
    assert.ok(seen.size >= 2, 'eight client networks all hashed to one backend');
  });

  test('hash … consistent pins each key to one backend, and different keys spread', async () => {
    const seen = new Set<string>();
    for (const user of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) {
      const got = new Set(await names(4, plain, 'shop.test', `/hash?user=${user}`));
      assert.equal(got.size, 1, user);
      seen.add([...got][0] as string);
    }
    assert.ok(seen.size >= 2, 'six keys all hashed to one backend');
  });

  test('draining and down servers get no traffic', async () => {
    assert.deepEqual(count(await names(9, plain, 'shop.test', '/down')), { x: 9 });
  });

  test('a service with no live instance, or none at all, answers 502 and the config still loads', async () => {
    assert.equal((await get(plain, 'shop.test', '/alldown')).status, 502);
    assert.equal((await get(plain, 'shop.test', '/none')).status, 502);
    assert.equal((await get(plain, 'shop.test', '/')).body, 'web', 'the other services are unaffected');
  });

  test('the access log is JSON with host, uri, status, request time and upstream fields', async () => {
    await get(plain, 'shop.test', '/api/v2/log-me');
    await get(plain, 'shop.test', '/none');
    const lines = (await readFile(join(running[0]?.prefix as string, 'shop.test_access.log'), 'utf8')).trim().split('\n');
    const [ok, bad] = lines.slice(-2).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(ok?.['host'], 'shop.test');
    assert.equal(ok?.['uri'], '/api/v2/log-me');
    assert.equal(ok?.['status'], 200);
    assert.equal(typeof ok?.['request_time'], 'number');
    assert.equal(ok?.['upstream'], 'corp_v2');
    assert.equal(ok?.['upstream_addr'], `127.0.0.1:${backends['v2']?.port}`);
    assert.equal(ok?.['upstream_status'], '200');
    assert.match(String(ok?.['upstream_response_time']), /^\d+\.\d{3}$/);
    assert.equal(bad?.['status'], 502);
    assert.equal(bad?.['upstream'], 'corp_none');
  });
});

describe('reloading nginx after draining a backend', { skip: missing !== '' ? missing : false }, () => {
  let a: Backend;
  let b: Backend;
  let nginx: RunningNginx | undefined;
  after(async () => {
    await nginx?.stop();
    for (const x of [a, b]) {
      x.release();
      await new Promise((r) => x.server.close(r));
    }
  });

  test('a request in flight on the drained backend completes with 200; new requests go elsewhere', async () => {
    a = await startBackend('a');
    b = await startBackend('b');
    const [port] = (await freePorts(1)) as [number];
    const render = (servers: UpstreamServer[]) =>
      renderNginxConfig({ domains: [{ domain: 'app.test', ports: [{ port, ssl: false }] }], services: [svc('corp_app', [['app.test', '/']], servers)] }, { listenAddress: '127.0.0.1' }).files;
    nginx = await startNginx(render([up(a), up(b, 1, 'down')]));
    const inFlight = get(port, 'app.test', '/slow');
    await a.slowArrived;
    await nginx.reload(render([up(a, 1, 'draining'), up(b)]));
    assert.deepEqual(count(await names(4, port, 'app.test', '/fast')), { b: 4 });
    a.release();
    assert.deepEqual(await inFlight, { status: 200, body: 'a' });
  });
});
