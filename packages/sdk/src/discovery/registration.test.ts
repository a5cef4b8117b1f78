import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { startTestServer, testBackends, type TestServer } from '../../../server/src/testing/index.ts';
import { mkMachine, mkService } from '../../../server/src/discovery/fixtures.test-util.ts';
import { createRegistration, type Heartbeat, type Registration } from './index.ts';
import { until } from './until.test-util.ts';

describe('registration with a machine credential against a live server', () => {
  let s: TestServer;
  let url: string;
  let credential: string;
  const open: Registration[] = [];

  before(async () => {
    s = await startTestServer(testBackends()[0]!);
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
    await mkService(s, 'reg.api');
    await mkMachine(s, 'reg-1.example', '10.70.0.1', ['reg.api']);
    credential = (await s.call('POST', '/api/v1/machines/reg-1.example/credentials', { name: 'agent' })).body.token;
  });
  after(async () => {
    for (const r of open) await r.close({ drainMs: 0 }).catch(() => {});
    await s.close();
  });

  const register = (o: Partial<Parameters<typeof createRegistration>[0]> = {}) => {
    const r = createRegistration({ url, token: credential, path: 'reg.api', hostname: 'reg-1.example', port: 8080, backoff: { baseMs: 20, capMs: 200 }, ...o });
    open.push(r);
    return r;
  };
  const instance = () => s.call('GET', '/api/v1/services/reg.api/instances/reg-1.example/8080');

  test('registers, heartbeats (with the local check), re-registers when removed, drains then deregisters on close', async () => {
    const beats: Heartbeat[] = [];
    let result: 'pass' | 'warn' = 'pass';
    const r = register({ ttlSeconds: 1, meta: { version: '1.2.3' }, check: () => result, onHeartbeat: (h) => beats.push(h) });
    await r.ready;
    const first = await instance();
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual([first.body.status, first.body.meta], ['up', { version: '1.2.3' }]);

    await until('two heartbeats', () => beats.length >= 2);
    assert.equal(beats.at(-1)?.health, 'passing');
    result = 'warn';
    await until('a warning heartbeat', () => beats.at(-1)?.health === 'warning');

    // An operator (or a reset) removes it: the next heartbeat puts it back.
    assert.equal((await s.call('DELETE', '/api/v1/services/reg.api/instances/reg-1.example/8080')).status, 204);
    await until('registered again', async () => (await instance()).status === 200);

    const closing = r.close({ drainMs: 300 });
    await until('draining', async () => (await instance()).body?.status === 'draining');
    const answer = await s.call('GET', '/api/v1/services/reg.api/instances?healthy=true');
    assert.deepEqual(answer.body.instances, [], 'a draining instance is in no answer');
    await closing;
    assert.equal((await instance()).status, 404, 'deregistered');
    const audit = await s.call('GET', '/api/v1/audit?limit=20');
    assert.ok(audit.body.items.some((e: { actor: string }) => e.actor === 'machine:reg-1.example'), 'the machine itself registered it');
  });

  test('with no onHeartbeat callback (the README\'s call) heartbeats still go and the instance outlives several TTLs', async () => {
    await mkMachine(s, 'reg-2.example', '10.70.0.2', ['reg.api']);
    const own = (await s.call('POST', '/api/v1/machines/reg-2.example/credentials', { name: 'agent' })).body.token;
    const r = register({ token: own, hostname: 'reg-2.example', ttlSeconds: 1 });
    await r.ready;
    const id = (await s.call('GET', '/api/v1/services/reg.api/instances/reg-2.example/8080')).body.id as number;
    const { health } = s.services.discovery;
    const current = async () => (await s.call('GET', '/api/v1/services/reg.api/instances/reg-2.example/8080')).body.health;
    // Nine heartbeats span three TTLs; sweeping first, an instance that is not heartbeating lapses here.
    await until('nine heartbeats or a lapse', async () => {
      await health.sweep();
      return (await current()) === 'critical' || health.counters(id).passes >= 9;
    });
    assert.equal(await current(), 'passing');
    await r.close({ drainMs: 0 });
  });

  test('a refused registration is reported and retried, never thrown', async () => {
    const errors: unknown[] = [];
    const r = register({ hostname: 'someone-else.example', onError: (e) => errors.push(e) });
    await until('two refusals', () => errors.length >= 2);
    assert.match(String((errors[0] as Error).message), /not found|own machine/);
    await r.close({ drainMs: 0 }).catch(() => {});
  });
});
