/**
 * A published version served by a real nginx on loopback: every domain and URI reaches its
 * service's backend, and a drained backend's in-flight request completes across the reload that
 * takes it out. PGlite only: the database is not what is under test here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { pgliteTemplate } from '../testing/index.ts';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { findProgram, freePorts, startNginx, type RunningNginx } from './nginx-binary.ts';
import { expectStatus, fileOf, mkDiscoveryService, mkDomain, mkInstance, mkNodes, setInstance, watchUntil } from './proxy-fixtures.test-util.ts';

const missing = findProgram('nginx') === null ? 'nginx not installed: apt-get install nginx-light' : '';
if (missing) console.error(`\n!!! SKIPPING live nginx serving tests: ${missing}\n`);

/** A loopback HTTP server answering its name; `/slow` waits for `release()`. */
interface Backend {
  server: Server;
  slowArrived: Promise<void>;
  release(): void;
}

async function startBackend(name: string, host: string, port: number): Promise<Backend> {
  let arrived!: () => void;
  let release!: () => void;
  const slowArrived = new Promise<void>((r) => (arrived = r));
  const released = new Promise<void>((r) => (release = r));
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/slow') === true) {
      arrived();
      void released.then(() => res.end(name));
    } else res.end(name);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return { server, slowArrived, release };
}

function get(port: number, host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { Host: host }, agent: false });
    req.once('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

const pglite = testBackends().find((b) => b.name === 'pglite');

describe('a published nginx config served by a live nginx (pglite)', { skip: missing || !pglite ? missing || 'no pglite' : false }, () => {
  let s: TestServer;
  let nginx: RunningNginx | undefined;
  const backends: Backend[] = [];
  let listen = 0;
  let drainPort = 0;
  const url = '/api/v1/nginx/clusters/live.edge';

  before(async () => {
    await pgliteTemplate();
    s = await startTestServer(pglite as NonNullable<typeof pglite>);
    const [web, api, other, drain, front] = (await freePorts(5)) as [number, number, number, number, number];
    listen = front;
    drainPort = drain;
    backends.push(await startBackend('web', '127.0.0.1', web), await startBackend('api', '127.0.0.1', api), await startBackend('other', '127.0.0.1', other));
    backends.push(await startBackend('drain-a', '127.0.0.2', drain), await startBackend('drain-b', '127.0.0.3', drain));
    const services: [string, number, string, string][] = [
      ['live.web', web, 'www.live.test', '/'],
      ['live.api', api, 'www.live.test', '/api/'],
      ['live.other', other, 'other.live.test', '/'],
      ['live.drain', drain, 'drain.live.test', '/'],
    ];
    await mkNodes(s, 'live.edge');
    for (const d of ['www.live.test', 'other.live.test', 'drain.live.test']) await mkDomain(s, d, listen);
    for (const [path, port, domain, uri] of services) {
      await mkDiscoveryService(s, path, port);
      if (path !== 'live.drain') await mkInstance(s, path, `${path.replace('.', '-')}.example`, '127.0.0.1', port);
      expectStatus(await s.call('PUT', `/api/v1/nodes/${path}/nginx`, { domainUris: [{ domain, uri }], port }), 201);
    }
    await mkInstance(s, 'live.drain', 'drain-a.example', '127.0.0.2', drain);
    expectStatus(await s.call('PUT', `/api/v1/nginx/clusters/live.edge`, { domains: ['www.live.test', 'other.live.test', 'drain.live.test'], listenAddress: '127.0.0.1' }), 201);
    expectStatus(await s.call('POST', `${url}/apply`, { reason: 'serve it' }), 200);
    nginx = await startNginx(expectStatus(await s.call('GET', `${url}/config`), 200).body.files);
  });

  after(async () => {
    await nginx?.stop();
    for (const b of backends) {
      b.release();
      b.server.closeAllConnections();
      await new Promise((r) => b.server.close(r));
    }
    await s?.close();
  });

  test('each domain and URI reaches its own service; an unknown host gets 404', async () => {
    assert.deepEqual(await get(listen, 'www.live.test', '/'), { status: 200, body: 'web' });
    assert.deepEqual(await get(listen, 'www.live.test', '/api/v1/users'), { status: 200, body: 'api' });
    assert.deepEqual(await get(listen, 'www.live.test', '/apix'), { status: 200, body: 'web' }, '/api/ does not catch /apix');
    assert.deepEqual(await get(listen, 'other.live.test', '/api/v1/users'), { status: 200, body: 'other' });
    assert.deepEqual(await get(listen, 'drain.live.test', '/'), { status: 200, body: 'drain-a' });
    assert.equal((await get(listen, 'nobody.live.test', '/')).status, 404);
  });

  test('draining a backend and reloading nginx lets its in-flight request finish; new requests go elsewhere', async () => {
    const [a, b] = [backends[3] as Backend, backends[4] as Backend];
    const before = expectStatus(await s.call('GET', `${url}/config`), 200).body.version;
    const inFlight = get(listen, 'drain.live.test', '/slow');
    await a.slowArrived;
    await mkInstance(s, 'live.drain', 'drain-b.example', '127.0.0.3', drainPort);
    await setInstance(s, 'live.drain', 'drain-a.example', drainPort, { status: 'draining' });
    const drained = await watchUntil(s, url, before, (c) => {
      const up = fileOf(c, 'upstreams');
      return up.includes(`server 127.0.0.2:${drainPort} weight=1 down;`) && up.includes(`server 127.0.0.3:${drainPort} weight=1;`);
    });
    assert.equal(drained.author, 'system');
    await (nginx as RunningNginx).reload(drained.files);
    a.release();
    assert.deepEqual(await inFlight, { status: 200, body: 'drain-a' }, 'the request in flight during the reload completed');
    for (let i = 0; i < 4; i++) assert.deepEqual(await get(listen, 'drain.live.test', '/'), { status: 200, body: 'drain-b' });
    b.release();
  });
});
