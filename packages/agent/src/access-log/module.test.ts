/**
 * The access-log module over a real state dir and log file, with the control center's side of the
 * channel played by the test: windows are pushed numbered; while the control center is away they
 * are kept (on disk), and a restarted agent sends them again with the same numbers and reads on
 * from where it stopped, so each line is counted once; a batch refused three times is dropped.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessPush } from '@canopy/core';
import type { AgentModule, ModuleContext } from '../modules.ts';
import { until } from '../testing.ts';
import { accessLogModule } from './module.ts';

const root = mkdtempSync(join(tmpdir(), 'access-module-'));
after(() => rmSync(root, { recursive: true, force: true }));

const DOC = { files: [{ file: 'shop.test_access.log', domain: 'shop.test' }], routes: [{ domain: 'shop.test', location: '/', upstream: 'web', service: 'm.shop.web' }] };
const line = (status: number) => `${JSON.stringify({ host: 'shop.test', uri: '/', status, request_time: 0.001, upstream: 'web', upstream_addr: '10.0.0.1:80', upstream_status: String(status), upstream_response_time: '0.001' })}\n`;

/** The control center's end: takes or refuses pushes, says whether it is connected. */
function controlCenter() {
  const cc = { connected: true, refuse: false, taken: [] as AccessPush[], refused: 0 };
  const connectHooks: (() => void)[] = [];
  const ctx = (stateDir: string, logDir: string): ModuleContext => ({
    stateDir,
    hostname: 'edge-1',
    settings: { accessLog: { dir: logDir, intervalSeconds: 1 } },
    log: () => {},
    doc: () => DOC,
    onDoc: (_name, fn) => fn(DOC),
    async push(_stream, data) {
      if (!cc.connected) throw new Error('not connected to the control center');
      if (cc.refuse && (data as AccessPush).series.length > 0) {
        if (++cc.refused >= 3) cc.refuse = false;
        throw new Error('refused');
      }
      cc.taken.push(data as AccessPush);
    },
    connected: () => cc.connected,
    onConnected: (fn) => void connectHooks.push(fn),
    serve: () => {},
  });
  const total = () => cc.taken.reduce((a, b) => a + b.series.filter((s) => s.backend === '').reduce((x, s) => x + Object.values(s.statuses).reduce((p, q) => p + q, 0), 0), 0);
  return { cc, ctx, total, reconnect: () => { cc.connected = true; for (const f of connectHooks) f(); } };
}

describe('the access-log module', () => {
  test('windows wait on disk while the control center is away and are sent once, in order, after a restart', async () => {
    const dir = join(root, 'a');
    const state = join(dir, 'state');
    const log = join(dir, 'shop.test_access.log');
    mkdirSync(dir);
    writeFileSync(log, line(200).repeat(50)); // history before the agent looked: not counted
    const { cc, ctx, total } = controlCenter();
    let m: AgentModule = accessLogModule();
    await m.start(ctx(state, dir));
    await until('a first window', () => cc.taken.length > 0, 10_000);
    appendFileSync(log, line(200).repeat(10) + line(502).repeat(2));
    await until('the lines counted', () => total() === 12, 10_000);
    cc.connected = false;
    appendFileSync(log, line(200).repeat(7));
    const pending = () => (existsSync(join(state, 'access-log', 'state.json')) ? (JSON.parse(readFileSync(join(state, 'access-log', 'state.json'), 'utf8')).pending as AccessPush[]) : []);
    await until('the window counted while away is kept on disk', () => pending().some((b) => b.series.length > 0), 10_000);
    await m.stop();
    appendFileSync(log, line(200).repeat(3)); // written while the agent is stopped
    cc.connected = true;
    m = accessLogModule();
    await m.start(ctx(state, dir));
    await until('every line counted', () => total() === 22, 10_000);
    const windows = cc.taken.length;
    await until('one window more', () => cc.taken.length > windows, 10_000);
    await m.stop();
    assert.equal(total(), 22, 'none twice');
    const seqs = cc.taken.map((b) => b.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in order');
    assert.equal(new Set(seqs).size, seqs.length, 'each number once');
    assert.equal(new Set(cc.taken.map((b) => b.source)).size, 1, 'one source across the restart');
  });

  test('a window refused three times is dropped so later ones still go', async () => {
    const dir = join(root, 'b');
    mkdirSync(dir);
    const log = join(dir, 'shop.test_access.log');
    writeFileSync(log, '');
    const { cc, ctx, total } = controlCenter();
    const m = accessLogModule();
    await m.start(ctx(join(dir, 'state'), dir));
    await until('a first window', () => cc.taken.length > 0, 10_000);
    cc.refuse = true;
    appendFileSync(log, line(200).repeat(4));
    await until('three refusals', () => cc.refused >= 3, 15_000);
    appendFileSync(log, line(200).repeat(5));
    await until('the later lines arrive', () => total() >= 5, 15_000);
    const windows = cc.taken.length;
    await until('one window more', () => cc.taken.length > windows, 10_000);
    await m.stop();
    assert.equal(total(), 5, 'the refused window is gone, the later one counted');
  });
});
