/**
 * Builds across a control center killed with -9: one build runs (waiting for a marker file) and one
 * waits in the queue behind it on a one-machine pool. The server dies and is started again on the
 * same data; meanwhile the running build finishes on its agent, whose upload retries until the
 * server is back. The restarted orchestrator finds the queued build in the database and starts it:
 * both succeed, each with exactly one artifact.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canMakeTestHosts, createTestHosts, mkNodes, type TestHosts, type TestServer } from '@canopy/server/testing';
import { enrollHosts, startAgent, startControlCenter, until, type ControlCenterProcess, type RunningAgent } from '../testing.ts';

const noHosts = canMakeTestHosts();

describe('builds survive a control center killed with -9 (pglite)', { skip: noHosts && `test hosts unavailable: ${noHosts}` }, () => {
  let hosts: TestHosts;
  let cc: ControlCenterProcess;
  let agent: RunningAgent | undefined;
  const work = mkdtempSync(join(tmpdir(), 'canopy-build-crash-'));
  const repoDir = join(work, 'repo');

  before(async () => {
    mkdirSync(repoDir);
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repoDir });
    git('init', '-q', '-b', 'main');
    writeFileSync(join(repoDir, 'build.sh'), 'set -e\nwhile [ ! -e "$WAIT_FOR" ]; do sleep 0.05; done\nmkdir -p out\necho built > out/done.txt\n');
    git('add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'one');
    hosts = createTestHosts(1, 'bcrash');
    cc = await startControlCenter({ host: hosts.gateway });
    const creds = await enrollHosts(cc, hosts.hosts);
    const h = hosts.hosts[0]!;
    agent = startAgent(h, cc.url, creds.get(h.hostname)!.token);
    const s = cc as unknown as TestServer;
    await mkNodes(s, 'corp.build');
    await mkNodes(s, 'corp.app');
    assert.ok((await cc.call('PUT', `/api/v1/nodes/corp.build/machines/${h.hostname}`)).status < 300);
    assert.equal((await cc.call('PUT', '/api/v1/nodes/corp.app/build-settings', { pool: 'corp.build' })).status, 200);
    await until('the agent connected', async () => (await cc.call('GET', '/api/v1/agents')).body.items.some((a: { state: string }) => a.state === 'connected'), 120_000);
  });
  after(async () => {
    await agent?.stop();
    await cc?.stop();
    hosts?.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('the running build finishes, the queued one starts after the restart, one artifact each', async () => {
    const start = async (version: string, marker: string) => {
      const r = await cc.call('POST', '/api/v1/builds', { nodePath: 'corp.app', repo: `file://${repoDir}`, command: 'sh build.sh', outputPath: 'out', version, env: { WAIT_FOR: join(work, marker) } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body.id as number;
    };
    const build = async (id: number) => (await cc.call('GET', `/api/v1/builds/${id}`)).body;
    const first = await start('crash-1', 'm1');
    const second = await start('crash-2', 'm2');
    await until('the first build running on the agent', async () => (await build(first)).taskState === 'RUNNING', 60_000);
    assert.equal((await build(second)).state, 'queued');

    await cc.kill9();
    writeFileSync(join(work, 'm1'), '');
    writeFileSync(join(work, 'm2'), '');
    await cc.restart();

    for (const id of [first, second]) {
      await until(`build ${id} finished`, async () => ['succeeded', 'failed', 'cancelled'].includes((await build(id)).state), 120_000).catch(async (err) => {
        throw new Error(`${(err as Error).message}: ${JSON.stringify(await build(id))}\n${agent!.log.slice(-15).join('\n')}\n--- server\n${cc.log.slice(-20).join('\n')}`);
      });
      assert.equal((await build(id)).state, 'succeeded', JSON.stringify(await build(id)));
    }
    const list = await cc.call('GET', '/api/v1/artifacts/corp.app?limit=500');
    assert.deepEqual(list.body.items.map((a: { version: string; buildId: number }) => [a.version, a.buildId]).sort(), [['crash-1', first], ['crash-2', second]]);
  });
});
