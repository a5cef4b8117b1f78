import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../http/app.ts';
import { createServices, type Services } from '../services.ts';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { hosts, mkInstance, mkService } from './fixtures.test-util.ts';

interface SseEvent {
  id: number;
  event: string;
  data: { revision: number; services: any[] };
}

/** An SSE client over fetch: `next()` yields events in arrival order. */
async function openWatch(base: string, token: string, query: string, lastEventId?: number) {
  const ac = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...(lastEventId !== undefined ? { 'last-event-id': String(lastEventId) } : {}) };
  const res = await fetch(`${base}/api/v1/watch?${query}`, { headers, signal: ac.signal });
  const queue: SseEvent[] = [];
  let wake: (() => void) | undefined;
  void (async () => {
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const f = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
          if (f['data'] === undefined) continue;
          queue.push({ id: Number(f['id']), event: f['event'] as string, data: JSON.parse(f['data']) });
          wake?.();
        }
      }
    } catch {
      // Aborted by close().
    }
  })();
  return {
    res,
    async next(): Promise<SseEvent> {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      return queue.shift() as SseEvent;
    },
    close: () => ac.abort(),
  };
}

const weightOf = (answer: { instances: { weight: number }[] }) => answer.instances[0]?.weight;

for (const backend of testBackends()) {
  describe(`discovery watch over SSE (${backend.name})`, { timeout: 60_000 }, () => {
    let s: TestServer;
    let base: string;
    before(async () => {
      s = await startTestServer(backend);
      base = await s.app.listen({ port: 0, host: '127.0.0.1' });
    });
    after(() => s.close());

    const setWeight = (path: string, host: string, weight: number) => s.call('PUT', `/api/v1/services/${path}/instances/${host}/8080`, { weight });

    test('one stream receives every change of several services in order and resumes from a revision', async () => {
      await mkService(s, 'w.a');
      await mkService(s, 'w.b');
      await mkInstance(s, 'w.a', 'wa.example', '10.40.0.1');
      await mkInstance(s, 'w.b', 'wb.example', '10.40.0.2');
      const w = await openWatch(base, s.adminToken, 'services=w.a,w.b');
      assert.equal(w.res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      const snap = await w.next();
      assert.equal(snap.event, 'snapshot');
      assert.deepEqual(snap.data.services.map((a) => a.service), ['w.a', 'w.b']);

      await setWeight('w.a', 'wa.example', 2);
      await setWeight('w.b', 'wb.example', 3);
      await mkService(s, 'w.unwatched');
      await setWeight('w.a', 'wa.example', 4);
      const got = [await w.next(), await w.next(), await w.next()];
      assert.deepEqual(got.map((e) => e.event), ['change', 'change', 'change']);
      assert.deepEqual(got.map((e) => e.data.services.map((a) => `${a.service}=${weightOf(a)}`)), [['w.a=2'], ['w.b=3'], ['w.a=4']]);
      assert.ok(got[0]!.id > snap.id && got[1]!.id > got[0]!.id && got[2]!.id > got[1]!.id, 'ids are increasing revisions');
      assert.deepEqual(got.map((e) => e.id), got.map((e) => e.data.revision));
      const lastSeen = got[2]!.id;
      w.close();

      // While disconnected: b changes twice, a once.
      await setWeight('w.b', 'wb.example', 5);
      await setWeight('w.a', 'wa.example', 6);
      await setWeight('w.b', 'wb.example', 7);
      const again = await openWatch(base, s.adminToken, 'services=w.a,w.b', lastSeen);
      const r1 = await again.next();
      const r2 = await again.next();
      assert.deepEqual([r1.event, r2.event], ['change', 'change']);
      assert.deepEqual([r1.data.services.map((a) => `${a.service}=${weightOf(a)}`), r2.data.services.map((a) => `${a.service}=${weightOf(a)}`)], [['w.a=6'], ['w.b=7']]);
      assert.ok(r1.id > lastSeen && r2.id > r1.id);
      await setWeight('w.a', 'wa.example', 8);
      const live = await again.next();
      assert.deepEqual([live.event, weightOf(live.data.services[0])], ['change', 8]);
      again.close();
    });

    test('an alias switch reaches a watcher as one change carrying the new instances', async () => {
      await mkService(s, 'sw.blue');
      await mkService(s, 'sw.green');
      await mkInstance(s, 'sw.blue', 'sw-blue.example', '10.41.0.1');
      await mkInstance(s, 'sw.green', 'sw-green.example', '10.41.0.2');
      await s.call('PUT', '/api/v1/aliases/sw.live', { target: 'sw.blue' });
      const w = await openWatch(base, s.adminToken, 'services=sw.live&healthy=true');
      const snap = await w.next();
      assert.deepEqual(hosts(snap.data.services[0]), ['sw-blue.example']);
      assert.equal((await s.call('PUT', '/api/v1/aliases/sw.live', { target: 'sw.green' })).status, 200);
      const ev = await w.next();
      assert.deepEqual([ev.event, ev.data.services[0].service, hosts(ev.data.services[0])], ['change', 'sw.green', ['sw-green.example']]);
      await setWeight('sw.green', 'sw-green.example', 9);
      const next = await w.next();
      assert.equal(weightOf(next.data.services[0]), 9, 'now follows the new target');
      w.close();
    });

    test('a watcher resuming from a revision this server never reached starts over with a snapshot', async () => {
      // What a client sees after the database was reset under it: its Last-Event-ID is in the future.
      await mkService(s, 'fut.web');
      await mkInstance(s, 'fut.web', 'fut-a.example', '10.43.0.1');
      const w = await openWatch(base, s.adminToken, 'services=fut.web', s.services.feed.revision() + 1000);
      const first = await w.next();
      assert.equal(first.event, 'snapshot');
      assert.deepEqual(hosts(first.data.services[0]), ['fut-a.example']);
      await setWeight('fut.web', 'fut-a.example', 3);
      const live = await w.next();
      assert.deepEqual([live.event, weightOf(live.data.services[0])], ['change', 3], 'live changes flow at once, not after the old revision is passed');
      w.close();
    });

    test('refuses a watch on a service the caller cannot see', async () => {
      const w = await fetch(`${base}/api/v1/watch?services=w.a,no.such`, { headers: { authorization: `Bearer ${s.adminToken}` } });
      assert.equal(w.status, 404);
      const bad = await fetch(`${base}/api/v1/watch?services=`, { headers: { authorization: `Bearer ${s.adminToken}` } });
      assert.equal(bad.status, 400);
    });

    describe('a replica with a short memory', () => {
      let replica: Services;
      let app: FastifyInstance;
      let url: string;
      before(async () => {
        replica = createServices(s.database, { discovery: { ringSize: 2 } });
        await replica.start();
        app = await buildApp(replica, { logLevel: 'silent' });
        url = await app.listen({ port: 0, host: '127.0.0.1' });
      });
      after(async () => {
        await app.close();
        await replica.stop();
      });

      test('a watcher too far behind gets a snapshot first, then live changes', async () => {
        await mkService(s, 'far.web');
        await mkInstance(s, 'far.web', 'far-a.example', '10.42.0.1');
        await replica.feed.catchUp();
        const auth = { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' };
        const put = (weight: number) => fetch(`${url}/api/v1/services/far.web/instances/far-a.example/8080`, { method: 'PUT', headers: auth, body: JSON.stringify({ weight }) });
        const start = replica.feed.revision();
        for (const wgt of [2, 3, 4]) assert.equal((await put(wgt)).status, 200);
        const w = await openWatch(url, s.adminToken, 'services=far.web', start);
        const first = await w.next();
        assert.equal(first.event, 'snapshot');
        assert.equal(weightOf(first.data.services[0]), 4);
        assert.equal((await put(5)).status, 200);
        const live = await w.next();
        assert.deepEqual([live.event, weightOf(live.data.services[0])], ['change', 5]);
        // Left open on purpose: closing the app must end the stream rather than wait for it.
      });
    });
  });
}
