/**
 * Every consumer of a service sees the same instances: with the protect threshold tripped, the
 * HTTP answer, DNS, the SDK's pick, the nginx upstream (and a live nginx in front of it) and the
 * LVS real servers all keep sending to the critical instance; without protection they all drop it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestServer, testBackends, type TestServer } from '../../../server/src/testing/index.ts';
import { expectStatus, fileOf, mkDiscoveryService, mkDomain, mkInstance, mkNodes } from '../../../server/src/nginx/proxy-fixtures.test-util.ts';
import { findProgram, freePorts, startNginx, type RunningNginx } from '../../../server/src/nginx/nginx-binary.ts';
import { findKeepalived } from '../../../server/src/lvs/keepalived-binary.ts';
import { createDnsServer, type DnsServer } from '../../../server/src/dns/index.ts';
import { createDiscoveryClient, type DiscoveryClient } from './index.ts';

const missing = findProgram('nginx') === null ? 'nginx not installed: apt-get install nginx-light' : findKeepalived() === null ? 'keepalived not installed: apt-get install keepalived' : '';
if (missing) console.error(`\n!!! SKIPPING the proxy/DNS/SDK consistency tests: ${missing}\n`);

function get(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { Host: host }, agent: false });
    req.once('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

for (const backend of testBackends()) {
  describe(`one instance set for every consumer (${backend.name})`, { skip: missing || false }, () => {
    let s: TestServer;
    let app: Server;
    let dns: DnsServer;
    let nginx: RunningNginx | undefined;
    let client: DiscoveryClient | undefined;
    let listen = 0;
    let appPort = 0;
    const resolver = new Resolver({ timeout: 5000, tries: 1 });

    before(async () => {
      s = await startTestServer(backend);
      await s.app.listen({ port: 0, host: '127.0.0.1' });
      app = createServer((_, res) => res.end('protected-app'));
      await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
      appPort = (app.address() as AddressInfo).port;
      [listen] = (await freePorts(1)) as [number];
      dns = createDnsServer(s.services, { port: 0, host: '127.0.0.1', ttl: 5 });
      await dns.start();
      resolver.setServers([`127.0.0.1:${dns.port()}`]);
    });
    after(async () => {
      client?.close();
      await nginx?.stop();
      await dns?.stop();
      await new Promise((r) => app?.close(r));
      await s?.close();
    });

    /** Service `<p>.web` with one instance made critical by a failed heartbeat, behind nginx and LVS. */
    async function criticalService(p: string, ip: string, port: number, protectThreshold: number): Promise<void> {
      await mkNodes(s, `${p}.edge`);
      await mkNodes(s, `${p}.lb`);
      await mkDiscoveryService(s, `${p}.web`, port);
      expectStatus(await s.call('PUT', `/api/v1/services/${p}.web`, { ports: [{ name: 'http', port }], protectThreshold }), 200);
      await mkInstance(s, `${p}.web`, `${p}-a.example`, ip, port);
      const beat = expectStatus(await s.call('PUT', `/api/v1/services/${p}.web/instances/${p}-a.example/${port}/heartbeat`, { status: 'fail' }), 200);
      assert.equal(beat.body.health, 'critical');
      await mkDomain(s, `${p}.example.com`, listen);
      expectStatus(await s.call('PUT', `/api/v1/nodes/${p}.web/nginx`, { domainUris: [{ domain: `${p}.example.com`, uri: '/' }], port }), 201);
      expectStatus(await s.call('PUT', `/api/v1/nginx/clusters/${p}.edge`, { domains: [`${p}.example.com`], listenAddress: '127.0.0.1' }), 201);
      expectStatus(await s.call('POST', `/api/v1/nginx/clusters/${p}.edge/apply`, { reason: 'serve it' }), 200);
      expectStatus(await s.call('PUT', `/api/v1/nodes/${p}.web/lvs`, { virtualServices: [{ vip: '10.20.77.1', port }] }), 201);
      expectStatus(await s.call('PUT', `/api/v1/lvs/clusters/${p}.lb`, { services: [`${p}.web`] }), 201);
      expectStatus(await s.call('POST', `/api/v1/lvs/clusters/${p}.lb/apply`, { reason: 'balance it' }), 200);
    }

    const nginxFiles = async (p: string) => expectStatus(await s.call('GET', `/api/v1/nginx/clusters/${p}.edge/config`), 200).body;
    const lvsFile = async (p: string) => fileOf(expectStatus(await s.call('GET', `/api/v1/lvs/clusters/${p}.lb/config`), 200).body, 'lvs');
    const sdkPick = async (path: string) => {
      client ??= createDiscoveryClient({ url: `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`, token: s.adminToken });
      await client.resolve(path);
      return client.pick(path)?.hostname;
    };

    test('protect threshold 0.5, its only instance critical: API, DNS, SDK, nginx, LVS and a live nginx all still use it', async () => {
      await criticalService('pcy', '127.0.0.1', appPort, 0.5);
      const answer = expectStatus(await s.call('GET', '/api/v1/services/pcy.web/instances?healthy=true'), 200).body;
      assert.deepEqual([answer.protected, answer.instances.map((i: { hostname: string; serving: boolean }) => [i.hostname, i.serving])], [true, [['pcy-a.example', true]]]);
      assert.deepEqual(await resolver.resolve4('web.pcy.svc.canopy'), ['127.0.0.1'], 'DNS answers it');
      assert.equal(await sdkPick('pcy.web'), 'pcy-a.example', 'the SDK picks it');
      const config = await nginxFiles('pcy');
      assert.match(fileOf(config, 'upstreams'), new RegExp(`server 127\\.0\\.0\\.1:${appPort} weight=1;`), 'the nginx upstream routes to it');
      assert.match(await lvsFile('pcy'), new RegExp(`real_server 127\\.0\\.0\\.1 ${appPort} \\{\\n\\s+weight 1\\n`), 'LVS gives it its weight');
      nginx = await startNginx(config.files);
      assert.deepEqual(await get(listen, 'pcy.example.com'), { status: 200, body: 'protected-app' }, 'a live nginx serves through it instead of answering 502');
    });

    test('without protection the same critical instance is dropped by every consumer alike', async () => {
      await criticalService('pcn', '10.9.77.1', 8377, 0);
      const answer = expectStatus(await s.call('GET', '/api/v1/services/pcn.web/instances?healthy=true'), 200).body;
      assert.deepEqual([answer.protected, answer.instances.length], [false, 0]);
      await assert.rejects(resolver.resolve4('web.pcn.svc.canopy'), { code: 'ENODATA' }, 'DNS has no address for it');
      assert.equal(await sdkPick('pcn.web'), undefined, 'the SDK has nothing to pick');
      assert.match(fileOf(await nginxFiles('pcn'), 'upstreams'), /server 10\.9\.77\.1:8377 weight=1 down;/);
      assert.match(await lvsFile('pcn'), /real_server 10\.9\.77\.1 8377 \{\n\s+weight 0\n/);
      const full = expectStatus(await s.call('GET', '/api/v1/services/pcn.web/instances'), 200).body;
      assert.deepEqual(full.instances.map((i: { serving: boolean }) => i.serving), [false], 'the full list says it takes no traffic');
    });
  });
}
