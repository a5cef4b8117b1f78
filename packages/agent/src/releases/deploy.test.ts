/**
 * Releases end to end: a real control center holding tar.gz artifacts, a real agent process on this
 * machine, and `process` tasks naming a release, driven as a deployment drives them — created
 * desired READY (pre-staging), then desired RUNNING (the switch), the older task desired SHUTDOWN.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { create } from 'tar';
import { TaskState, type TaskStateValue } from '@canopy/core';
import { mkNodes, startTestServer, testBackends, type TestServer } from '@canopy/server/testing';
import { enrollHosts, freePort, localHost, startAgent, until, type RunningAgent } from '../testing.ts';
import { stageRelease, taskLog } from './index.ts';

const [backend] = testBackends();
const SYSTEM = { kind: 'system', id: null, name: 'test', superuser: true } as const;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// The app answers with its version, cwd and release dir; the smoke test (postStart) asks it.
const SERVER = `
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
const version = readFileSync('VERSION', 'utf8').trim();
process.on('SIGTERM', () => process.exit(0));
createServer((req, res) => res.end(JSON.stringify({ version, cwd: process.cwd(), dir: process.env.CANOPY_RELEASE_DIR })))
  .listen(Number(process.env.PORT), '127.0.0.1');
`;
const SMOKE = `
const r = await fetch('http://127.0.0.1:' + process.env.PORT + '/');
const body = await r.json();
console.log('smoke test saw version', body.version);
if (process.env.SMOKE_MUST_SEE && body.version !== process.env.SMOKE_MUST_SEE) { console.error('wrong version'); process.exit(1); }
`;

interface Row {
  state: number;
  message: string;
  error: string | null;
  stdout: string;
  stderr: string;
}

describe('releases staged, switched and pruned by a real agent', () => {
  let s: TestServer;
  let work: string;
  let store: string;
  let apps: string;
  let agent: RunningAgent | undefined;
  let machineId: number;
  let token: string;
  let url: string;
  let port: number;
  const host = localHost('releases-host');
  const artifacts = new Map<string, { path: string; sha256: string; size: number }>();

  const task = async (id: string): Promise<Row> => {
    const r = await s.database.db.execute(sql`SELECT state, message, error, stdout, stderr FROM tasks WHERE id = ${id}`);
    return (r as unknown as { rows: Row[] }).rows[0]!;
  };
  const reaches = (id: string, state: TaskStateValue, also: (t: Row) => boolean = () => true) =>
    until(`task ${id} at ${state}`, async () => {
      const t = await task(id);
      if (t.state > state) throw new Error(`task ${id} went past ${state}: ${JSON.stringify(t)}\n${agent?.log.slice(-20).join('\n')}`);
      return t.state === state && also(t);
    }, 60_000);
  const ended = (id: string) => until(`task ${id} to end`, async () => (await task(id)).state >= TaskState.COMPLETE, 60_000);
  const setDesired = (id: string, desired: TaskStateValue) => s.services.writer.run(SYSTEM, (w) => s.services.dispatcher.setDesired(w, [id], desired));
  const ask = async () => (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as { version: string; cwd: string; dir: string };

  /** Push a tar.gz of the app at `version` as corp.rel's artifact. */
  async function push(version: string): Promise<{ path: string; sha256: string; size: number }> {
    const src = join(work, `src-${version}`);
    mkdirSync(src);
    writeFileSync(join(src, 'server.mjs'), SERVER);
    writeFileSync(join(src, 'smoke.mjs'), SMOKE);
    writeFileSync(join(src, 'VERSION'), `${version}\n`);
    const file = join(work, `${version}.tar.gz`);
    await create({ gzip: true, file, cwd: src, portable: true }, readdirSync(src));
    const body = readFileSync(file);
    const r = await s.app.inject({ method: 'PUT', url: `/api/v1/artifacts/corp.rel/${version}?sha256=${sha(body)}`, payload: body, headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/octet-stream' } });
    assert.equal(r.statusCode, 201, r.body);
    const a = { path: r.json().url as string, sha256: sha(body), size: body.length };
    artifacts.set(version, a);
    return a;
  }

  const created: string[] = [];
  let generation = 0;
  /** A process task for release `version` of corp.rel, desired READY (a deployment's pre-staging). */
  async function stage(version: string, over: { artifact?: Partial<{ path: string; sha256: string; size: number }>; env?: Record<string, string>; hooks?: Record<string, unknown> } = {}): Promise<string> {
    const nodeId = s.services.tree.model.byPath('corp.rel')!.id;
    const spec = {
      argv: [process.execPath, 'server.mjs'],
      env: { PORT: String(port), ...over.env },
      health: { type: 'http', port, intervalSeconds: 0.2 },
      drainSeconds: 0,
      nodeId,
      service: 'corp.rel',
      generation: ++generation,
      release: { version, artifact: { ...artifacts.get(version)!, ...over.artifact }, keep: 2 },
      hooks: over.hooks ?? {
        preStart: ['/bin/sh', '-c', 'echo "migrating to $CANOPY_RELEASE in $(pwd)"'],
        postStart: [process.execPath, 'smoke.mjs'],
        preStop: ['/bin/sh', '-c', 'echo "preStop of $CANOPY_RELEASE"'],
      },
    };
    const [id] = await s.services.writer.run(SYSTEM, (w) => s.services.dispatcher.createTasks(w, [{ machineId, kind: 'process', spec, desired: TaskState.READY }]));
    created.push(id!);
    return id!;
  }
  const current = () => readlinkSync(join(apps, 'corp.rel', 'current'));
  const releaseDir = (v: string) => join(apps, 'corp.rel', 'releases', v);

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'canopy-deploy-agent-'));
    store = join(work, 'store');
    apps = join(work, 'apps');
    s = await startTestServer(backend!, { artifacts: { dir: store, maxBytes: 64 * 1024 * 1024, retention: { keepLast: 50, keepDeployedDays: 30 }, sweepMinutes: 0 } });
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
    port = await freePort('127.0.0.1');
    await mkNodes(s, 'corp.rel');
    const creds = await enrollHosts(s, [host]);
    ({ id: machineId, token } = creds.get(host.hostname)!);
    assert.ok((await s.call('PUT', `/api/v1/nodes/corp.rel/machines/${host.hostname}`)).status < 300);
    agent = startAgent(host, url, token, undefined, { args: ['--apps-dir', apps] });
    await until('agent connected', () => s.services.dispatcher.connectedHere(machineId), 60_000);
  });
  after(async () => {
    // Apps outlive their agent: every task is shut down first, so none is left serving.
    if (s && created.length > 0) {
      await s.services.writer.run(SYSTEM, (w) => s.services.dispatcher.setDesired(w, created, TaskState.SHUTDOWN));
      await until('every task ended', async () => (await Promise.all(created.map(task))).every((t) => t.state >= TaskState.COMPLETE), 30_000).catch(() => {});
    }
    await agent?.stop();
    await s?.close();
    rmSync(work, { recursive: true, force: true });
  });

  let first: string;

  test('a task desired READY stages the release without touching current; RUNNING switches and runs it', async () => {
    await push('1.0.0');
    first = await stage('1.0.0');
    await reaches(first, TaskState.READY, (t) => /unpacked into/.test(t.stdout));
    const staged = await task(first);
    assert.match(staged.message, /release 1\.0\.0 staged/);
    assert.match(staged.stdout, /canopy: downloading \/api\/v1\/artifacts\/corp\.rel\/1\.0\.0/);
    assert.match(staged.stdout, new RegExp(`canopy: verified sha256 ${artifacts.get('1.0.0')!.sha256}`));
    assert.ok(existsSync(join(releaseDir('1.0.0'), 'server.mjs')), 'unpacked into releases/1.0.0');
    assert.equal(existsSync(join(apps, 'corp.rel', 'current')), false, 'current untouched while staged');

    await setDesired(first, TaskState.RUNNING);
    await reaches(first, TaskState.RUNNING, (t) => /smoke test saw version 1\.0\.0/.test(t.stdout));
    assert.equal(current(), 'releases/1.0.0');
    const seen = await ask();
    assert.deepEqual(seen, { version: '1.0.0', cwd: releaseDir('1.0.0'), dir: releaseDir('1.0.0') }, 'runs from its release dir, not current');
    const t = await task(first);
    assert.match(t.stdout, new RegExp(`migrating to 1\\.0\\.0 in ${releaseDir('1.0.0')}`), 'preStart ran in the release dir');
    assert.match(t.stdout, /postStart hook passed/);
  });

  test('the next release is staged while the old one serves, then replaces it; the old task shuts down', async () => {
    await push('2.0.0');
    const next = await stage('2.0.0', { env: { SMOKE_MUST_SEE: '2.0.0' } });
    await reaches(next, TaskState.READY);
    assert.equal(current(), 'releases/1.0.0', 'staging does not switch');
    assert.equal((await ask()).version, '1.0.0', 'the old release still serves');

    await setDesired(next, TaskState.RUNNING);
    await reaches(next, TaskState.RUNNING);
    assert.equal(current(), 'releases/2.0.0');
    assert.equal((await ask()).version, '2.0.0');
    const log = (await task(next)).stdout;
    assert.match(log, /preStop of 1\.0\.0/, 'the replaced release\'s preStop ran before it was stopped');
    assert.match(log, /current -> releases\/2\.0\.0 \(was 1\.0\.0\)/);
    assert.match(log, /smoke test saw version 2\.0\.0/);

    await setDesired(first, TaskState.SHUTDOWN);
    await reaches(first, TaskState.SHUTDOWN);
    assert.equal((await ask()).version, '2.0.0', 'shutting the old task down leaves the new app alone');
    first = next;
  });

  test('keeps release.keep releases: the oldest goes, current and the running one stay', async () => {
    await push('3.0.0');
    const third = await stage('3.0.0');
    await reaches(third, TaskState.READY);
    await setDesired(third, TaskState.RUNNING);
    // Pruning follows the switch: its line may come in a report after RUNNING's.
    await reaches(third, TaskState.RUNNING, (t) => /removed old releases: 1\.0\.0/.test(t.stdout));
    assert.deepEqual(readdirSync(join(apps, 'corp.rel', 'releases')).sort(), ['2.0.0', '3.0.0']);
    await setDesired(first, TaskState.SHUTDOWN);
    await reaches(first, TaskState.SHUTDOWN);
    first = third;
  });

  test('a wrong sha256 in the task refuses the artifact: the task ends with the refusal, current unchanged', async () => {
    await push('4.0.0');
    const bad = await stage('4.0.0', { artifact: { sha256: 'f'.repeat(64) } });
    await ended(bad);
    const t = await task(bad);
    // A prepare that fails is REJECTED (core/tasks/transition.ts: a fatal error before STARTING).
    assert.equal(t.state, TaskState.REJECTED, JSON.stringify(t));
    assert.match(t.error ?? '', /^artifact refused \(corrupt\): its sha256 is [0-9a-f]{64}, not the expected f{64}/);
    assert.match(t.stdout, /artifact refused \(corrupt\)/);
    assert.equal(existsSync(releaseDir('4.0.0')), false, 'nothing unpacked');
    assert.equal(current(), 'releases/3.0.0');
  });

  test('bytes changed in the artifact store are refused as corrupt', async () => {
    const a = await push('5.0.0');
    const blob = (readdirSync(store, { recursive: true }) as string[]).map((f) => join(store, f)).find((f) => f.includes(a.sha256));
    assert.ok(blob, `the store holds ${a.sha256}`);
    const bytes = readFileSync(blob);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
    writeFileSync(blob, bytes);
    const bad = await stage('5.0.0');
    await ended(bad);
    const t = await task(bad);
    assert.equal(t.state, TaskState.REJECTED);
    assert.match(t.error ?? '', /^artifact refused \(corrupt\)/);
    assert.equal(existsSync(releaseDir('5.0.0')), false);
  });

  test('a failing postStart fails the task with the hook\'s reason and stops its process; its output is reported', async () => {
    await push('6.0.0');
    const bad = await stage('6.0.0', { env: { SMOKE_MUST_SEE: 'something else' } });
    await reaches(bad, TaskState.READY);
    await setDesired(bad, TaskState.RUNNING);
    await ended(bad);
    const t = await task(bad);
    assert.equal(t.state, TaskState.FAILED, JSON.stringify(t));
    assert.equal(t.error, 'postStart hook exited with status 1');
    assert.match(t.stdout, /smoke test saw version 6\.0\.0/);
    assert.match(t.stderr, /wrong version/);
    await until('its app stopped', () => fetch(`http://127.0.0.1:${port}/`).then(() => false, () => true), 30_000);
    await setDesired(first, TaskState.SHUTDOWN);
    await reaches(first, TaskState.SHUTDOWN);
  });

  test('staging again finds the release unpacked and fetches nothing', async () => {
    const dir = mkdtempSync(join(work, 'restage-'));
    const log = taskLog(dir);
    const opts = { artifact: artifacts.get('3.0.0')!, dir: releaseDir('3.0.0'), controlCenter: { url, token }, cacheDir: join(work, 'cache'), log };
    await stageRelease(opts);
    assert.match(readFileSync(log.stdoutPath, 'utf8'), /release already unpacked in/);
    assert.doesNotMatch(readFileSync(log.stdoutPath, 'utf8'), /downloading/);
  });
});
