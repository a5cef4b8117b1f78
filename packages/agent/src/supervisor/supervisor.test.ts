import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ProcessTaskSpec, type ProcessLive } from '@canopy/core';
import { freePort, until } from '../testing.ts';
import { logFile, tail } from './logs.ts';
import { createSupervisor, type Supervisor } from './supervisor.ts';

const root = mkdtempSync(join(tmpdir(), 'supervisor-test-'));
// A small app: serves HTTP on $PORT (500 while /tmp/…/sick exists), logs each request, exits 0 on SIGTERM unless told to ignore it.
const APP = join(root, 'app.mjs');
writeFileSync(APP, `
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
const sick = process.env.SICK_FILE;
if (process.env.IGNORE_TERM) process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
else process.on('SIGTERM', () => { console.log('bye'); process.exit(0); });
createServer((req, res) => { console.log('GET', req.url); res.statusCode = sick && existsSync(sick) ? 500 : 200; res.end('ok'); })
  .listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening', process.env.PORT));
`);

let n = 0;
const sups: Supervisor[] = [];
function supervisor(stateDir = mkdtempSync(join(root, 'state-'))): Supervisor {
  const s = createSupervisor({ stateDir, rotateEveryMs: 3_600_000 });
  sups.push(s);
  return s;
}
function spec(over: Record<string, unknown> = {}): ProcessTaskSpec {
  n++;
  return ProcessTaskSpec.parse({ argv: [process.execPath, APP], nodeId: n, service: `corp.app${n}`, generation: 1, restart: { backoffSeconds: 0.05 }, ...over });
}
// A zombie (killed, not yet reaped by init) counts as gone.
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

after(async () => {
  for (const s of sups) for (const p of s.list()) await s.stop(p.taskId, 'test over');
  for (const s of sups) s.detach();
  rmSync(root, { recursive: true, force: true });
});

describe('the supervisor with real processes', () => {
  test('an app killed with -9 is started again after the backoff, counting the restart', async () => {
    const s = supervisor();
    const port = await freePort('127.0.0.1');
    await s.ensure('t-kill', spec({ env: { PORT: String(port) } }));
    await until('running', () => s.get('t-kill')?.state === 'running' && s.get('t-kill')?.pid !== null);
    const first = s.get('t-kill')!.pid!;
    await until('listening', () => tail(s.logDir(n), 'stdout', 5).text.includes('listening'));
    process.kill(first, 'SIGKILL');
    await until('restarted', () => s.get('t-kill')?.restarts === 1 && s.get('t-kill')?.state === 'running');
    const now = s.get('t-kill')!;
    assert.notEqual(now.pid, first);
    assert.equal(now.lastExit?.code, 137);
    assert.equal(alive(first), false);
  });

  test('more than 5 restarts in the window is flapping: restarting stops and it says so', async () => {
    const s = supervisor();
    const seen: ProcessLive[] = [];
    s.onChange((l) => void seen.push(l));
    await s.ensure('t-flap', spec({ argv: ['/bin/sh', '-c', 'echo crash >&2; exit 3'] }));
    await until('flapping', () => s.get('t-flap')?.state === 'flapping');
    const l = s.get('t-flap')!;
    assert.equal(l.restarts, 5);
    assert.equal(l.lastExit?.code, 3);
    assert.match(l.message, /flapping/);
    assert.ok(seen.filter((x) => x.state === 'backoff').length >= 5);
    assert.match(tail(s.logDir(n), 'stderr', 10).text, /crash\n/);
  });

  test('on-failure leaves a clean exit alone', async () => {
    const s = supervisor();
    await s.ensure('t-clean', spec({ argv: ['/bin/true'], restart: { policy: 'on-failure' } }));
    await until('exited', () => s.get('t-clean')?.state === 'exited');
    assert.equal(s.get('t-clean')!.restarts, 0);
    assert.equal(s.get('t-clean')!.lastExit?.code, 0);
  });

  test('an HTTP health check makes it healthy, a failing one unhealthy after the threshold', async () => {
    const s = supervisor();
    const port = await freePort('127.0.0.1');
    const sick = join(root, `sick-${port}`);
    await s.ensure('t-health', spec({ env: { PORT: String(port), SICK_FILE: sick }, health: { type: 'http', port, path: '/health', intervalSeconds: 0.1, unhealthyThreshold: 2 } }));
    assert.equal(s.get('t-health')!.state, 'starting');
    await until('healthy', () => s.get('t-health')?.health === 'healthy');
    assert.equal(s.get('t-health')!.state, 'running');
    writeFileSync(sick, '');
    await until('unhealthy', () => s.get('t-health')?.health === 'unhealthy');
    assert.match(s.get('t-health')!.message, /HTTP 500 from \/health/);
    rmSync(sick);
    await until('healthy again', () => s.get('t-health')?.health === 'healthy');
  });

  test('a stop drains first (the listener is awaited), then signals; an app ignoring SIGTERM is killed after the grace', async () => {
    const s = supervisor();
    const port = await freePort('127.0.0.1');
    const order: string[] = [];
    s.onChange(async (l, drain) => {
      if (l.taskId !== 't-stop') return;
      order.push(`${l.state}${drain ? ' (drain)' : ''}`);
    });
    await s.ensure('t-stop', spec({ env: { PORT: String(port), IGNORE_TERM: '1' }, ports: [{ port }], drainSeconds: 0, stopGraceSeconds: 0.3 }));
    await until('listening', () => tail(s.logDir(n), 'stdout', 5).text.includes('listening'));
    const pid = s.get('t-stop')!.pid!;
    await s.stop('t-stop', 'test');
    assert.equal(alive(pid), false);
    assert.deepEqual(order.slice(-3), ['draining (drain)', 'stopping', 'stopped']);
    assert.match(tail(s.logDir(n), 'stdout', 5).text, /ignoring SIGTERM/);
    assert.equal(s.get('t-stop')!.lastExit?.code, null); // SIGKILL took the wrapper too
  });

  test('a new task of the same node replaces the running one (stopped first)', async () => {
    const s = supervisor();
    const port = await freePort('127.0.0.1');
    const a = spec({ env: { PORT: String(port) }, drainSeconds: 0 });
    await s.ensure('t-gen1', a);
    await until('gen 1 listening', () => tail(s.logDir(a.nodeId), 'stdout', 5).text.includes('listening'));
    const old = s.get('t-gen1')!.pid!;
    await s.ensure('t-gen2', { ...a, generation: 2 });
    assert.equal(s.get('t-gen1')!.state, 'stopped');
    assert.equal(alive(old), false);
    await until('gen 2 running', () => s.get('t-gen2')?.state === 'running');
    await until('gen 2 listening', () => tail(s.logDir(a.nodeId), 'stdout', 1).text.includes('listening'));
  });

  test('a restarted agent adopts the running app by pid, and still restarts it after a crash', async () => {
    const stateDir = mkdtempSync(join(root, 'state-'));
    const first = supervisor(stateDir);
    const port = await freePort('127.0.0.1');
    await first.ensure('t-adopt', spec({ env: { PORT: String(port) } }));
    await until('running', () => first.get('t-adopt')?.state === 'running');
    const pid = first.get('t-adopt')!.pid!;
    first.detach(); // as an agent killed -9 leaves it: the app is not ours any more
    const second = supervisor(stateDir);
    assert.equal(second.get('t-adopt')!.pid, pid);
    assert.equal(second.get('t-adopt')!.restarts, 0);
    process.kill(pid, 'SIGKILL');
    await until('restarted by the second agent', () => second.get('t-adopt')?.restarts === 1 && second.get('t-adopt')?.state === 'running');
    assert.notEqual(second.get('t-adopt')!.pid, pid);
  });

  test('an agent killed between starting an app and saving its pid: the next one adopts that app, it does not start a second', async () => {
    const stateDir = mkdtempSync(join(root, 'state-'));
    const first = supervisor(stateDir);
    const port = await freePort('127.0.0.1');
    const sp = spec({ env: { PORT: String(port) } });
    await first.ensure('t-unrecorded', sp);
    await until('running', () => first.get('t-unrecorded')?.state === 'running');
    const pid = first.get('t-unrecorded')!.pid!;
    first.detach();
    // The record as it was on disk before the spawn: no pid.
    const file = join(stateDir, 'supervisor', 't-unrecorded.json');
    const rec = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...rec, pid: undefined, pidStart: undefined, state: 'starting' }));
    const second = supervisor(stateDir);
    await second.ensure('t-unrecorded', sp);
    await until('running again', () => second.get('t-unrecorded')?.state === 'running');
    assert.equal(second.get('t-unrecorded')!.pid, pid, 'the same app');
    assert.match(second.get('t-unrecorded')!.message, /adopted a run the previous agent started/);
    assert.equal(second.get('t-unrecorded')!.restarts, 0);
    await second.stop('t-unrecorded', 'test over');
    await until('the app is gone', () => !alive(pid));
  });

  test('logs rotate by size into gzip files, keeping N', async () => {
    const s = supervisor();
    const sp = spec({ argv: ['/bin/sh', '-c', 'i=0; while [ $i -lt 400 ]; do echo "line $i of a chatty app"; i=$((i+1)); done; sleep 60'], logs: { maxBytes: 1024, keep: 2 } });
    await s.ensure('t-logs', sp);
    const dir = s.logDir(sp.nodeId);
    await until('output written', () => tail(dir, 'stdout', 1).text.includes('line 399'));
    await s.rotateAll();
    const gz = `${logFile(dir, 'stdout')}.1.gz`;
    assert.ok(existsSync(gz));
    assert.match(gunzipSync(readFileSync(gz)).toString(), /line 0 of a chatty app\n[\s\S]*line 399/);
    assert.equal(readFileSync(logFile(dir, 'stdout'), 'utf8'), '');
    for (let i = 0; i < 3; i++) {
      writeFileSync(logFile(dir, 'stdout'), 'x'.repeat(2048), { flag: 'a' });
      await s.rotateAll();
    }
    assert.ok(existsSync(`${logFile(dir, 'stdout')}.2.gz`));
    assert.equal(existsSync(`${logFile(dir, 'stdout')}.3.gz`), false);
  });
});
