import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { backendOf, createBalancer } from '@canopy/core';
import { startTestServer, testBackends, type TestServer } from '../../../server/src/testing/index.ts';
import { mkInstance, mkService } from '../../../server/src/discovery/fixtures.test-util.ts';
import { buildApp } from '../../../server/src/http/app.ts';
import { createServices, type Services } from '../../../server/src/services.ts';
import { CanopyNetworkError } from '../client.ts';
import { createDiscoveryClient, type DiscoveryClient } from './index.ts';
import { until } from './until.test-util.ts';

const hostsOf = async (c: DiscoveryClient, path: string) => (await c.resolve(path)).instances.map((i) => i.hostname);

describe('discovery client against a live server', () => {
  let s: TestServer;
  let url: string;
  let port: number;
  const clients: DiscoveryClient[] = [];
  // After the restart test, the second app and services replace the first ones.
  let restarted: { app: FastifyInstance; services: Services } | undefined;
  const client = (o: { zone?: string } = {}) => {
    const c = createDiscoveryClient({ url, token: s.adminToken, backoff: { baseMs: 20, capMs: 200 }, ...o });
    clients.push(c);
    return c;
  };

  before(async () => {
    s = await startTestServer(testBackends()[0]!);
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    port = (s.app.server.address() as AddressInfo).port;
    url = `http://127.0.0.1:${port}`;
    await mkService(s, 'sdk.web');
    await mkInstance(s, 'sdk.web', 'sdkw-a', '10.7.0.1', { weight: 5 });
    await mkInstance(s, 'sdk.web', 'sdkw-b', '10.7.0.2');
    await mkInstance(s, 'sdk.web', 'sdkw-c', '10.7.0.3');
  });
  after(async () => {
    for (const c of clients) c.close();
    if (!restarted) return s.close();
    await restarted.app.close();
    await restarted.services.stop();
    await s.database.close();
  });

  test('resolve answers the healthy instances and pick follows the service\'s wrr sequence', async () => {
    const c = client();
    assert.deepEqual(await hostsOf(c, 'sdk.web'), ['sdkw-a', 'sdkw-b', 'sdkw-c']);
    assert.equal(Array.from({ length: 7 }, () => c.pick('sdk.web')?.hostname.slice(-1)).join(' '), 'a a b a c a a');
    assert.throws(() => c.pick('sdk.never-resolved'), /not resolved yet/);
  });

  test('a drain is pushed to the cache: pick no longer returns the drained instance', async () => {
    const c = client();
    await c.resolve('sdk.web');
    await until('the watch is live', () => c.status() === 'live');
    const r = await s.call('PUT', '/api/v1/services/sdk.web/instances/sdkw-b/8080', { status: 'draining' });
    assert.equal(r.status, 200);
    await until('the drain reaches the cache', async () => !(await hostsOf(c, 'sdk.web')).includes('sdkw-b'));
    for (let k = 0; k < 100; k++) assert.notEqual(c.pick('sdk.web')?.hostname, 'sdkw-b');
    assert.equal((await s.call('PUT', '/api/v1/services/sdk.web/instances/sdkw-b/8080', { status: 'up' })).status, 200);
    await until('the undrain reaches the cache', async () => (await hostsOf(c, 'sdk.web')).includes('sdkw-b'));
  });

  test('a service resolved later joins the watch, and its changes are pushed too', async () => {
    const c = client();
    await c.resolve('sdk.web');
    await mkService(s, 'sdk.api');
    await mkInstance(s, 'sdk.api', 'sdka-1', '10.7.1.1');
    assert.deepEqual(await hostsOf(c, 'sdk.api'), ['sdka-1']);
    assert.ok(c.watching('sdk.api') && c.watching('sdk.web'));
    await until('the watch is live', () => c.status() === 'live');
    await mkInstance(s, 'sdk.api', 'sdka-2', '10.7.1.2');
    await until('the new instance reaches the cache', async () => (await hostsOf(c, 'sdk.api')).length === 2);
  });

  test('consistent_hash picks the instance createBalancer picks over the same instances (as nginx would)', async () => {
    await mkService(s, 'sdk.chash', { lb: { algorithm: 'consistent_hash', hashKey: 'x-user' } });
    for (let k = 1; k <= 8; k++) await mkInstance(s, 'sdk.chash', `sdkc-${k}`, `10.7.2.${k}`, { weight: 1 + (k % 3) });
    const c = client();
    const answer = await c.resolve('sdk.chash');
    const ref = createBalancer('consistent_hash', answer.instances.map((i) => backendOf(i.ip, i.port, i.weight)));
    for (let k = 0; k < 300; k++) {
      const picked = c.pick('sdk.chash', `user-${k}`);
      assert.equal(`${picked?.ip}:${picked?.port}`, ref.pick(`user-${k}`)?.id);
    }
  });

  test('a zone-aware service answers the client\'s zone', async () => {
    await mkService(s, 'sdk.zoned', { zoneAware: true });
    await mkInstance(s, 'sdk.zoned', 'sdkz-1', '10.7.3.1', {}, 'z1');
    await mkInstance(s, 'sdk.zoned', 'sdkz-2', '10.7.3.2', {}, 'z2');
    assert.deepEqual(await hostsOf(client({ zone: 'z1' }), 'sdk.zoned'), ['sdkz-1']);
    assert.deepEqual(await hostsOf(client(), 'sdk.zoned'), ['sdkz-1', 'sdkz-2']);
  });

  test('while the server is away the last answer is served; a new server on the same port and database resyncs it', async () => {
    const c = client();
    await c.resolve('sdk.web');
    await until('the watch is live', () => c.status() === 'live');

    await s.app.close();
    await until('the client notices the server is gone', () => c.status() === 'offline' || c.status() === 'connecting');
    assert.deepEqual(await hostsOf(c, 'sdk.web'), ['sdkw-a', 'sdkw-b', 'sdkw-c']);
    assert.ok(c.pick('sdk.web'));
    await assert.rejects(c.resolve('sdk.api'), CanopyNetworkError);

    // A new server process over the same database: fresh read models, then a change while the client is away.
    await s.services.stop();
    const services = createServices(s.database, { onError: (err) => console.error(err) });
    await services.start();
    const app = await buildApp(services, { logLevel: 'silent' });
    restarted = { app, services };
    const drained = await app.inject({
      method: 'PUT',
      url: '/api/v1/services/sdk.web/instances/sdkw-c/8080',
      headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ status: 'draining' }),
    });
    assert.equal(drained.statusCode, 200, drained.body);
    assert.deepEqual(await hostsOf(c, 'sdk.web'), ['sdkw-a', 'sdkw-b', 'sdkw-c'], 'still the last known answer');

    await app.listen({ port, host: '127.0.0.1' });
    await until('the client resyncs', async () => !(await hostsOf(c, 'sdk.web')).includes('sdkw-c'));
    await until('the watch is live again', () => c.status() === 'live');
    for (let k = 0; k < 50; k++) assert.notEqual(c.pick('sdk.web')?.hostname, 'sdkw-c');
  });
});
