import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { canMakeTestHosts, mkNodes, testBackends, type TestHosts, type TestServer } from '@canopy/server/testing';
import { startFleet, until, type Fleet, type RunningAgent } from './testing.ts';

const noHosts = canMakeTestHosts();
const CANOPY = join(import.meta.dirname, '../../../node_modules/.bin/canopy');

/** Run the `canopy` command against `url` as the admin; never throws, returns exit code and output. */
async function canopy(url: string, token: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(CANOPY, args, { env: { ...process.env, CANOPY_URL: url, CANOPY_TOKEN: token, HOME: '/nonexistent' } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

for (const backend of testBackends()) {
  describe(`jobs on test hosts (${backend.name})`, { skip: noHosts && `test hosts unavailable: ${noHosts}` }, () => {
    let s: TestServer;
    let hosts: TestHosts;
    let url: string;
    let agents: RunningAgent[] = [];
    let fleet: Fleet | undefined;

    const job = async (id: number) => (await s.call('GET', `/api/v1/jobs/${id}`)).body;
    const settled = (id: number, states: string[]) =>
      until(`job ${id} to be ${states.join('/')}`, async () => states.includes((await job(id)).state)).catch(async (err) => {
        const logs = agents.map((a) => `--- ${a.host.hostname}\n${a.log.slice(-15).join('\n')}`).join('\n');
        throw new Error(`${(err as Error).message}: ${JSON.stringify(await job(id))}\n${logs}`);
      });

    before(async () => {
      fleet = await startFleet({ backend, count: 4, name: `jobs-${backend.name}`, server: { agents: { heartbeatMs: 500 } } });
      ({ s, hosts, url, agents } = fleet);
      await mkNodes(s, 'corp.jobs');
      for (const h of hosts.hosts) assert.equal((await s.call('PUT', `/api/v1/nodes/corp.jobs/machines/${h.hostname}`)).status < 300, true);
    });
    after(() => fleet?.close());

    test('a job over a subtree runs on every host; identical output is grouped', async () => {
      const r = await s.call('POST', '/api/v1/jobs', { target: { under: 'corp.jobs' }, command: 'echo hello', batch: { size: 2 } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.deepEqual(r.body.batches, [2, 2]);
      await settled(r.body.id, ['succeeded']);
      const d = await job(r.body.id);
      assert.equal(d.counts.succeeded, 4);
      assert.deepEqual(d.groups.map((g: { count: number; stdout: string }) => [g.count, g.stdout]), [[4, 'hello\n']]);
      assert.ok(d.hosts.every((h: { exitCode: number; durationMs: number }) => h.exitCode === 0 && h.durationMs >= 0));
    });

    test('a canary pauses the job after its first host until resumed', async () => {
      const r = await s.call('POST', '/api/v1/jobs', { target: { under: 'corp.jobs' }, command: ['true'], batch: { size: '50%', canary: true } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.deepEqual(r.body.batches, [1, 2, 1]);
      await settled(r.body.id, ['paused']);
      const paused = await job(r.body.id);
      assert.match(paused.pausedBecause, /canary/);
      assert.equal(paused.counts.succeeded, 1);
      assert.equal(paused.counts.pending, 3);
      assert.equal((await s.call('POST', `/api/v1/jobs/${r.body.id}/resume`)).status, 200);
      await settled(r.body.id, ['succeeded']);
    });

    test('more failures than tolerated pause the job; retry runs only the failed hosts again', async () => {
      const bad = hosts.hosts[1]!.address;
      const script = `ip -o -4 addr show eth0 | grep -q ' ${bad}/' && { echo bad >&2; exit 7; }\necho fine\n`;
      const r = await s.call('POST', '/api/v1/jobs', { target: { under: 'corp.jobs' }, script, batch: { size: 1, tolerance: 0 } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      await settled(r.body.id, ['paused']);
      const d = await job(r.body.id);
      assert.match(d.pausedBecause, /1 hosts failed, more than the tolerance of 0/);
      const failed = d.hosts.filter((h: { state: string }) => h.state === 'failed');
      assert.deepEqual(failed.map((h: { hostname: string; exitCode: number }) => [h.hostname, h.exitCode]), [[hosts.hosts[1]!.hostname, 7]]);
      assert.equal(d.counts.pending, 2, 'hosts after the failure were not run');
      const retried = await s.call('POST', `/api/v1/jobs/${r.body.id}/retry`);
      assert.equal(retried.status, 200);
      await settled(r.body.id, ['paused']);
      const again = await job(r.body.id);
      assert.equal(again.hosts.find((h: { hostname: string }) => h.hostname === hosts.hosts[1]!.hostname).attempt, 2);
    });

    test('stop kills the running commands and skips the rest', async () => {
      const marker = `/tmp/canopy-stopped-${process.pid}-${backend.name}`;
      const r = await s.call('POST', '/api/v1/jobs', { target: { under: 'corp.jobs' }, command: `sleep 30; touch ${marker}`, batch: { size: 2 } });
      await until('running', async () => (await job(r.body.id)).counts.running === 2 && (await job(r.body.id)).hosts.every((h: { taskState: string | null }) => h.taskState !== 'ASSIGNED'));
      await until('tasks running on the agents', async () => (await job(r.body.id)).hosts.filter((h: { taskState: string | null }) => h.taskState === 'RUNNING').length === 2);
      const stop = await s.call('POST', `/api/v1/jobs/${r.body.id}/stop`);
      assert.equal(stop.status, 200, JSON.stringify(stop.body));
      await settled(r.body.id, ['stopped']);
      const d = await job(r.body.id);
      assert.equal(d.counts.stopped, 2);
      assert.equal(d.counts.skipped, 2);
      assert.equal(existsSync(marker), false);
      const again = await s.call('POST', `/api/v1/jobs/${r.body.id}/stop`);
      assert.equal(again.status, 409);
      assert.match(again.body.detail, /nothing to stop/);
    });

    test('skip: a running host is stopped, a pending one never runs, and the job goes on without them', async () => {
      const marker = `/tmp/canopy-skipped-${process.pid}-${backend.name}`;
      const r = await s.call('POST', '/api/v1/jobs', { target: { under: 'corp.jobs' }, command: `sleep 30; touch ${marker}`, batch: { size: 1 } });
      const first = r.body.id as number;
      const runningHost = async () => (await job(first)).hosts.find((h: { state: string; taskState: string | null }) => h.state === 'running' && h.taskState === 'RUNNING')?.hostname as string | undefined;
      await until('the first host running', async () => (await runningHost()) !== undefined);
      const [one, ...rest] = (await job(first)).hosts.map((h: { hostname: string }) => h.hostname) as string[];
      assert.equal(await runningHost(), one);
      const unknown = await s.call('POST', `/api/v1/jobs/${first}/skip`, { hosts: [one, 'no-such-host'] });
      assert.equal(unknown.status, 400);
      assert.match(unknown.body.detail, /not hosts of job \d+: no-such-host/);
      assert.equal((await job(first)).counts.skipped, 0, 'a refused skip changes nothing');
      assert.equal((await s.call('POST', `/api/v1/jobs/${first}/skip`, { hosts: [one, rest[2]] })).status, 200);
      await until('the second host running', async () => (await runningHost()) === rest[0]);
      const again = await s.call('POST', `/api/v1/jobs/${first}/skip`, { hosts: [one] });
      assert.equal(again.status, 409);
      assert.match(again.body.detail, /already .* skipped/);
      assert.equal((await s.call('POST', `/api/v1/jobs/${first}/skip`, { hosts: [rest[0], rest[1]] })).status, 200);
      await settled(first, ['succeeded']);
      const d = await job(first);
      assert.equal(d.counts.skipped, 4);
      assert.equal(existsSync(marker), false, 'the skipped commands were killed');
      assert.equal((await s.call('POST', `/api/v1/jobs/${first}/skip`, { hosts: [one] })).status, 409);
    });

    test('`canopy job run --follow` shows the grouped output and exits 0; a failing job exits 1', async () => {
      const ok = await canopy(url, s.adminToken, ['job', 'run', '--under', 'corp.jobs', '--batch', '50%', '--follow', '--', 'echo', 'hi']);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /== 4 hosts, same output \(succeeded, exit 0\)/);
      assert.match(ok.stdout, /\nhi\n/);
      assert.match(ok.stderr, /succeeded: batch 2\/2, 4 succeeded/);
      const bad = await canopy(url, s.adminToken, ['job', 'run', '--hosts', hosts.hosts[0]!.hostname, '--follow', '--', 'exit 4']);
      assert.equal(bad.code, 1);
      assert.match(bad.stdout, /failed, exit 4/);
      const ls = await canopy(url, s.adminToken, ['job', 'ls', '--under', 'corp.jobs', '--json']);
      assert.equal(ls.code, 0);
      assert.ok((JSON.parse(ls.stdout) as unknown[]).length >= 1);
      const agentsLs = await canopy(url, s.adminToken, ['agent', 'ls', '--under', 'corp.jobs']);
      assert.equal((agentsLs.stdout.match(/ connected /g) ?? []).length, 4, agentsLs.stdout);
      const flag = await canopy(url, s.adminToken, ['job', 'run', '--under', 'corp.jobs', '--batch', 'lots', '--', 'true']);
      assert.notEqual(flag.code, 0);
      assert.match(flag.stderr, /count \(10\), a share/);
    });

    test('bad input is refused and creates nothing', async () => {
      const before = (await s.call('GET', '/api/v1/jobs?under=corp.jobs&limit=200')).body.items.length;
      const cases: [unknown, RegExp][] = [
        [{ target: {}, command: 'true' }, /name the machines/],
        [{ target: { under: 'corp.jobs' }, script: 'x'.repeat(300 * 1024) }, /at most/],
        [{ target: { under: 'corp.jobs' } }, /exactly one of command and script/],
        [{ target: { under: 'corp.jobs' }, command: 'true', batch: { size: 'lots' } }, /count \(10\)/],
        [{ target: { under: 'corp.jobs' }, command: 'true', user: 'Bad User' }, /POSIX user name/],
        [{ target: { hosts: ['no-such-host'] }, command: 'true' }, /no machine 'no-such-host'/],
      ];
      for (const [body, why] of cases) {
        const r = await s.call('POST', '/api/v1/jobs', body);
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.match(JSON.stringify(r.body), why);
      }
      assert.equal((await s.call('GET', '/api/v1/jobs?under=corp.jobs&limit=200')).body.items.length, before);
    });

    test('an unknown OS user fails each host with the reason', async () => {
      const r = await s.call('POST', '/api/v1/jobs', { target: { hosts: [hosts.hosts[0]!.hostname] }, command: 'true', user: 'nosuchuser' });
      assert.equal(r.status, 201);
      await settled(r.body.id, ['failed']);
      const d = await job(r.body.id);
      assert.equal(d.hosts[0].taskState, 'REJECTED');
      assert.match(d.hosts[0].error, /no such OS user "nosuchuser"/);
    });
  });
}
