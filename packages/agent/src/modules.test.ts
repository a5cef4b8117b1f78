/**
 * The module channel end to end, over a real session on loopback: documents reach the agent and
 * persist across a restart without the control center, pushes are acknowledged or refused with
 * the handler's reason, and a live stream is served until either side closes it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, testBackends, type TestServer } from '@canopy/server/testing';
import { startDaemon, type Daemon } from './daemon.ts';
import type { ModuleContext } from './modules.ts';
import { enrollHosts, localHost, until } from './testing.ts';

const [pglite] = testBackends();

describe('agent modules', () => {
  let s: TestServer;
  let url: string;
  let token: string;
  let machineId: number;
  const stateDir = mkdtempSync(join(tmpdir(), 'agent-modules-'));
  let ctx: ModuleContext | undefined;
  const docs: unknown[] = [];
  let daemon: Daemon | undefined;
  const table = new Map<number, unknown>();
  const pushes: unknown[] = [];

  const start = () => {
    ctx = undefined;
    docs.length = 0;
    daemon = startDaemon({
      url,
      token,
      stateDir,
      hostname: 'mod-1',
      log: () => {},
      modules: [
        () => ({
          name: 'probe',
          start(c) {
            ctx = c;
            c.onDoc('probe', (d) => docs.push(d));
            c.serve('ticks', (params, publish) => {
              const n = (params as { n: number }).n;
              for (let i = 0; i < n; i++) publish({ i });
              return () => publish({ stopped: true }, true);
            });
          },
          stop() {},
        }),
      ],
    });
  };

  before(async () => {
    s = await startTestServer(pglite!);
    await s.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
    const m = (await enrollHosts(s, [localHost('mod-1')])).get('mod-1')!;
    token = m.token;
    machineId = m.id;
    const d = s.services.dispatcher;
    d.provideDoc('probe', (id) => table.get(id));
    d.onPush('probe', (_from, data) => {
      if ((data as { bad?: boolean }).bad) throw new Error('bad probe data');
      pushes.push(data);
    });
    start();
    await until('connected', () => ctx?.connected() === true);
  });
  after(async () => {
    await daemon?.stop();
    await s.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  test('a document reaches the agent when it changes, and only then', async () => {
    table.set(machineId, { v: 1 });
    await s.services.dispatcher.refreshDoc('probe', [machineId]);
    await until('v1', () => docs.some((d) => (d as { v?: number } | null)?.v === 1));
    const seen = docs.length;
    await s.services.dispatcher.refreshDoc('probe');
    table.set(machineId, { v: 2 });
    await s.services.dispatcher.refreshDoc('probe');
    await until('v2', () => docs.some((d) => (d as { v?: number } | null)?.v === 2));
    assert.equal(docs.length, seen + 1, 'the unchanged refresh sent nothing');
    assert.deepEqual(ctx!.doc('probe'), { v: 2 });
  });

  test('a push resolves once taken, and rejects with the handler\'s reason', async () => {
    await ctx!.push('probe', { n: 1 });
    assert.deepEqual(pushes.at(-1), { n: 1 });
    await assert.rejects(ctx!.push('probe', { bad: true }), /bad probe data/);
    await assert.rejects(ctx!.push('nobody', {}), /no "nobody" stream/);
    await assert.rejects(ctx!.push('Not A Name', {}), /not a stream name/);
  });

  test('a live stream publishes until the control center closes it', async () => {
    const got: unknown[] = [];
    let ended = false;
    const sub = s.services.dispatcher.subscribe(machineId, 'ticks', { n: 3 }, (data, done) => {
      got.push(data);
      if (done) ended = true;
    });
    assert.ok(sub);
    await until('three ticks', () => got.length >= 3);
    sub.close();
    assert.deepEqual(got.slice(0, 3), [{ i: 0 }, { i: 1 }, { i: 2 }]);
    const none = s.services.dispatcher.subscribe(machineId, 'nothing', {}, (data, done) => {
      got.push(data);
      if (done) ended = true;
    });
    assert.ok(none);
    await until('refusal', () => ended);
    assert.match((got.at(-1) as { error: string }).error, /serves no "nothing" stream/);
  });

  test('documents survive an agent restart while the control center is away', async () => {
    await daemon!.stop();
    table.set(machineId, { v: 3 });
    const badUrl = url;
    url = 'http://127.0.0.1:9'; // nothing listens: the agent starts with no control center
    start();
    await until('module started', () => ctx !== undefined);
    assert.deepEqual(docs, [{ v: 2 }], 'the persisted document, before any session');
    assert.equal(ctx!.connected(), false);
    await daemon!.stop();
    url = badUrl;
    start();
    await until('v3 after reconnecting', () => docs.some((d) => (d as { v?: number } | null)?.v === 3));
  });
});
