import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { canMakeTestHosts, mkNodes, testBackends, type TestServer } from '@canopy/server/testing';
import { startFleet, until, type Fleet } from '../testing.ts';

const noHosts = canMakeTestHosts();
const CANOPY = join(import.meta.dirname, '../../../../node_modules/.bin/canopy');

/** Run the `canopy` command against `url` as the admin; never throws. */
async function canopy(url: string, token: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(CANOPY, args, { env: { ...process.env, CANOPY_URL: url, CANOPY_TOKEN: token, HOME: '/nonexistent' } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A git repository with one commit on `main`: build.sh writes dist/, optionally waiting for a marker file first. */
function makeRepo(dir: string): { url: string; commit: string } {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'build.sh'), [
    'set -e',
    'echo "step one"',
    'if [ -n "${WAIT_FOR:-}" ]; then while [ ! -e "$WAIT_FOR" ]; do sleep 0.05; done; fi',
    'mkdir -p dist/bin',
    'echo "hello from $(git rev-parse --short HEAD)" > dist/hello.txt',
    'printf "#!/bin/sh\\necho app\\n" > dist/bin/app && chmod +x dist/bin/app',
    'echo "step two"',
    '',
  ].join('\n'));
  git(dir, 'add', '.');
  git(dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'first');
  return { url: `file://${dir}`, commit: git(dir, 'rev-parse', 'HEAD') };
}

/** Read a build's SSE log until `stop` says so (or it ends); returns the events. */
async function readLog(base: string, token: string, id: number, stop: (events: { event: string; data: any }[]) => boolean): Promise<{ event: string; data: any }[]> {
  const res = await fetch(`${base}/api/v1/builds/${id}/log`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } });
  assert.equal(res.status, 200);
  const events: { event: string; data: any }[] = [];
  const decoder = new TextDecoder();
  let buf = '';
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const event = /^event: (.*)$/m.exec(frame)?.[1];
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data) });
    }
    if (stop(events) || events.some((e) => e.event === 'end')) break;
  }
  await reader.cancel().catch(() => {});
  return events;
}

const logText = (events: { event: string; data: any }[]) => events.reduce((t, e) => (e.event === 'log' ? t + e.data.text : e.event === 'reset' ? e.data.text : t), '');

for (const backend of testBackends()) {
  describe(`builds on test hosts (${backend.name})`, { skip: noHosts && `test hosts unavailable: ${noHosts}` }, () => {
    let fleet: Fleet | undefined;
    let s: TestServer;
    let work: string;
    let repo: { url: string; commit: string };
    const marker = (name: string) => join(work, `marker-${name}`);

    const build = async (id: number) => (await s.call('GET', `/api/v1/builds/${id}`)).body;
    const settled = (id: number, states: string[]) =>
      until(`build ${id} to be ${states.join('/')}`, async () => states.includes((await build(id)).state), 120_000).catch(async (err) => {
        const logs = fleet!.agents.map((a) => `--- ${a.host.hostname}\n${a.log.slice(-15).join('\n')}`).join('\n');
        throw new Error(`${(err as Error).message}: ${JSON.stringify(await build(id))}\n${logs}`);
      });
    const start = async (body: Record<string, unknown>) => {
      const r = await s.call('POST', '/api/v1/builds', { nodePath: 'corp.app', repo: repo.url, ref: 'main', command: 'sh build.sh', outputPath: 'dist', ...body });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body.id as number;
    };

    before(async () => {
      work = mkdtempSync(join(tmpdir(), 'canopy-builds-'));
      repo = makeRepo(join(work, 'repo'));
      fleet = await startFleet({ backend, count: 2, name: `builds-${backend.name}`, server: { agents: { heartbeatMs: 500 } } });
      s = fleet.s;
      await mkNodes(s, 'corp.build');
      await mkNodes(s, 'corp.app');
      await mkNodes(s, 'corp.empty');
      await mkNodes(s, 'lone.app');
      for (const h of fleet.hosts.hosts) assert.ok((await s.call('PUT', `/api/v1/nodes/corp.build/machines/${h.hostname}`)).status < 300);
      const set = await s.call('PUT', '/api/v1/nodes/corp/build-settings', { pool: 'corp.build' });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      assert.deepEqual(set.body.effective.maxPerMachine, { value: 1, from: null });
    });
    after(async () => {
      await fleet?.close();
      rmSync(work, { recursive: true, force: true });
    });

    test('a build on the inherited pool stores its output as a tar.gz artifact with a derived version', async () => {
      const inherited = await s.call('GET', '/api/v1/nodes/corp.app/build-settings');
      assert.deepEqual(inherited.body.effective.pool, { value: 'corp.build', from: 'corp' });
      const id = await start({});
      await settled(id, ['succeeded']);
      const b = await build(id);
      const version = `main-${repo.commit.slice(0, 12)}`;
      assert.equal(b.commit, repo.commit);
      assert.equal(b.artifact.version, version);
      assert.ok(fleet!.hosts.hosts.some((h) => h.hostname === b.hostname));
      const meta = await s.call('GET', `/api/v1/artifacts/corp.app/${version}/meta`);
      assert.equal(meta.status, 200, JSON.stringify(meta.body));
      assert.equal(meta.body.sha256, b.artifact.sha256);
      assert.equal(meta.body.buildId, id);
      assert.equal(meta.body.commit, repo.commit);
      const bytes = Buffer.from(await (await fetch(`${fleet!.url}/api/v1/artifacts/corp.app/${version}`, { headers: { authorization: `Bearer ${s.adminToken}` } })).arrayBuffer());
      const out = join(work, `unpacked-${id}`);
      mkdirSync(out);
      writeFileSync(`${out}.tgz`, bytes);
      await tar.extract({ file: `${out}.tgz`, cwd: out });
      assert.equal(readFileSync(join(out, 'hello.txt'), 'utf8'), `hello from ${repo.commit.slice(0, 7)}\n`);
      assert.equal(execFileSync(join(out, 'bin/app'), { encoding: 'utf8' }), 'app\n');
      const log = await fetch(`${fleet!.url}/api/v1/builds/${id}/log`, { headers: { authorization: `Bearer ${s.adminToken}` } });
      const text = await log.text();
      assert.match(text, /step one\n[\s\S]*step two\n/);
      assert.match(text, new RegExp(`stored as version ${version}`));

      const again = await start({});
      await settled(again, ['succeeded']);
      assert.equal((await build(again)).artifact.version, `${version}-b${again}`, 'a rebuild of the same commit gets a version of its own');
    });

    test('the log streams live while the build runs', async () => {
      const id = await start({ env: { WAIT_FOR: marker('live') }, version: 'live-1' });
      const early = await readLog(fleet!.url, s.adminToken, id, (ev) => logText(ev).includes('step one'));
      assert.match(logText(early), /step one/);
      assert.equal((await build(id)).state, 'running', 'the first lines came while the build was still running');
      writeFileSync(marker('live'), '');
      const all = await readLog(fleet!.url, s.adminToken, id, () => false);
      assert.equal(all.at(-1)!.event, 'end');
      assert.equal(all.at(-1)!.data.state, 'succeeded');
      assert.match(logText(all), /step one[\s\S]*step two/);
    });

    test('builds beyond the pool\'s slots queue and start as slots free', async () => {
      const ids = [await start({ env: { WAIT_FOR: marker('q1') }, version: 'q-1' }), await start({ env: { WAIT_FOR: marker('q2') }, version: 'q-2' }), await start({ env: { WAIT_FOR: marker('q3') }, version: 'q-3' })];
      await until('two running', async () => (await Promise.all(ids.map(build))).filter((b) => b.state === 'running').length === 2);
      const third = await build(ids[2]!);
      assert.equal(third.state, 'queued');
      assert.match(third.reason, /pool corp.build is busy \(2 machines × 1 at once\)/);
      const hosts = new Set((await Promise.all(ids.slice(0, 2).map(build))).map((b) => b.hostname));
      assert.equal(hosts.size, 2, 'one build per machine');
      writeFileSync(marker('q1'), '');
      await settled(ids[0]!, ['succeeded']);
      await settled(ids[2]!, ['running']);
      writeFileSync(marker('q2'), '');
      writeFileSync(marker('q3'), '');
      await settled(ids[1]!, ['succeeded']);
      await settled(ids[2]!, ['succeeded']);
    });

    test('cancel mid-build kills the build\'s whole process group and stores nothing', async () => {
      const pidFile = join(work, 'sleeper.pid');
      const id = await start({ command: `sleep 300 & echo $! > ${pidFile}; wait`, version: 'cancelled-1' });
      await until('the sleeper started', () => {
        try {
          return readFileSync(pidFile, 'utf8').trim().length > 0;
        } catch {
          return false;
        }
      }, 60_000);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      assert.ok(alive(pid));
      const r = await s.call('POST', `/api/v1/builds/${id}/cancel`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      await settled(id, ['cancelled']);
      await until('the sleeper killed', () => !alive(pid));
      assert.equal((await build(id)).artifact, null);
      assert.equal((await s.call('GET', '/api/v1/artifacts/corp.app/cancelled-1/meta')).status, 404);
      const again = await s.call('POST', `/api/v1/builds/${id}/cancel`);
      assert.equal(again.status, 409);
    });

    test('an unreachable repository fails the build with git\'s reason', async () => {
      const id = await start({ repo: `file://${work}/no-such-repo` });
      await settled(id, ['failed']);
      const b = await build(id);
      assert.match(b.reason, new RegExp(`could not fetch main from file://${work}/no-such-repo: fatal: .*(does not appear to be a git repository|Could not read)`));
      assert.equal(b.artifact, null);
    });

    test('an agent killed with -9 mid-build resumes it and the build stores one artifact', async () => {
      const id = await start({ env: { WAIT_FOR: marker('kill') }, version: 'survivor-1' });
      await until('running on its agent', async () => (await build(id)).taskState === 'RUNNING');
      const hostname = (await build(id)).hostname;
      const agent = fleet!.agents.find((a) => a.host.hostname === hostname)!;
      await agent.kill9();
      writeFileSync(marker('kill'), '');
      agent.restart();
      await settled(id, ['succeeded', 'failed']);
      const b = await build(id);
      assert.equal(b.state, 'succeeded', JSON.stringify(b));
      const list = await s.call('GET', '/api/v1/artifacts/corp.app?limit=500');
      assert.equal(list.body.items.filter((a: { buildId: number }) => a.buildId === id).length, 1);
    });

    test('`canopy build run --follow` streams the log and exits 0; ls, show and log --json agree', async () => {
      const url = fleet!.url;
      const run = await canopy(url, s.adminToken, ['build', 'run', 'corp.app', '--repo', repo.url, '--command', 'sh build.sh', '--output', 'dist', '--version', 'cli-1', '--follow']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /step one\n[\s\S]*step two\n[\s\S]*stored as version cli-1/);
      assert.match(run.stderr, /succeeded .*stored corp\.app@cli-1/);
      const ls = await canopy(url, s.adminToken, ['build', 'ls', '--under', 'corp.app', '--json']);
      assert.equal(ls.code, 0, ls.stderr);
      const mine = (JSON.parse(ls.stdout) as { id: number; version: string | null }[]).find((b) => b.version === 'cli-1')!;
      const show = await canopy(url, s.adminToken, ['build', 'show', String(mine.id), '--json']);
      assert.equal(JSON.parse(show.stdout).artifact.version, 'cli-1');
      const log = await canopy(url, s.adminToken, ['build', 'log', String(mine.id)]);
      assert.match(log.stdout, /step two/);
      const bad = await canopy(url, s.adminToken, ['build', 'run', 'corp.app', '--repo', `file://${work}/nowhere`, '--command', 'true', '--output', 'dist', '--follow']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /failed \(could not fetch main/);
      const cancel = await canopy(url, s.adminToken, ['build', 'cancel', String(mine.id)]);
      assert.equal(cancel.code, 1);
      assert.match(cancel.stderr, /succeeded: there is nothing to cancel/);
    });

    test('bad input is refused with the reason and changes nothing', async () => {
      const count = async () => (await s.call('GET', '/api/v1/builds?under=corp&limit=200')).body.items.length;
      // Held until the end, so `dup-1` is still being made (not yet stored) when it is asked for again.
      const gate = join(work, 'dup-gate');
      const dup = await start({ version: 'dup-1', command: `while [ ! -e ${gate} ]; do sleep 0.1; done; sh build.sh` });
      const before = await count();
      const base = { nodePath: 'corp.app', repo: repo.url, ref: 'main', command: 'true', outputPath: 'dist' };
      const cases: [unknown, number, RegExp][] = [
        [{ ...base, repo: '--upload-pack=touch' }, 400, /may not start with "-"/],
        [{ ...base, ref: 'a..b' }, 400, /not a valid git ref/],
        [{ ...base, outputPath: '../etc' }, 400, /may not leave the checkout/],
        [{ ...base, version: '-bad' }, 400, /version|must be/],
        [{ ...base, nodePath: 'lone.app' }, 400, /no build pool applies to lone.app/],
      ];
      for (const [body, status, why] of cases) {
        const r = await s.call('POST', '/api/v1/builds', body);
        assert.equal(r.status, status, JSON.stringify(r.body));
        assert.match(r.body.detail, why);
      }
      assert.equal((await s.call('PUT', '/api/v1/nodes/corp.empty/build-settings', { pool: 'corp.empty' })).status, 200);
      const empty = await s.call('POST', '/api/v1/builds', { ...base, nodePath: 'corp.empty' });
      assert.equal(empty.status, 409);
      assert.match(empty.body.detail, /the build pool corp.empty has no machines/);
      assert.equal((await s.call('PUT', '/api/v1/nodes/corp.app/build-settings', { maxPerMachine: 0 })).status, 400);
      assert.equal(await count(), before);
      const pushed = await fetch(`${fleet!.url}/api/v1/artifacts/corp.app/pushed-1`, { method: 'PUT', body: 'bytes', headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/octet-stream' } });
      assert.equal(pushed.status < 300, true, await pushed.text());
      const inRepo = await s.call('POST', '/api/v1/builds', { ...base, version: 'pushed-1' });
      assert.equal(inRepo.status, 409);
      assert.match(inRepo.body.detail, /corp.app@pushed-1 is already in the artifact repository/);
      const taken = await s.call('POST', '/api/v1/builds', { ...base, version: 'dup-1' });
      assert.equal(taken.status, 409);
      assert.match(taken.body.detail, new RegExp(`build ${dup} already makes corp.app@dup-1`));
      const upload = await fetch(`${fleet!.url}/api/v1/builds/1/artifact`, {
        method: 'PUT', body: 'x', headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/gzip', 'x-canopy-sha256': 'a'.repeat(64), 'x-canopy-commit': repo.commit },
      });
      assert.equal(upload.status, 404, 'only the build machine may upload');
      assert.equal(await count(), before);
      writeFileSync(gate, '');
      await settled(dup, ['succeeded']);
    });
  });
}
