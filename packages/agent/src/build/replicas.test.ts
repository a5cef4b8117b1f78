/**
 * Builds over two control-center replicas on one PostgreSQL: replica A (this process) takes the
 * builds, the agents of the pool hold their sessions with replica B (its own process), which also
 * takes their uploads. Both replicas run the orchestrator on every change, yet each build is given
 * exactly one task, the pool's one-per-machine limit holds, and A's view follows B's agents.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { ADMIN_PASSWORD, canMakeTestHosts, createTestHosts, mkNodes, startTestServer, testBackends, type TestHosts, type TestServer } from '@canopy/server/testing';
import { enrollHosts, startAgent, startControlCenter, until, type ControlCenterProcess, type RunningAgent } from '../testing.ts';

const noHosts = canMakeTestHosts();
const postgres = testBackends().find((b) => b.name === 'postgres');
const skip = !postgres
  ? 'SKIPPED: two replicas need one PostgreSQL (PGlite is one process’s); set CANOPY_TEST_DATABASE_URL=postgres://root@127.0.0.1:5432/postgres'
  : noHosts && `test hosts unavailable: ${noHosts}`;

describe('builds over two control-center replicas', { skip }, () => {
  let a: TestServer;
  let b: ControlCenterProcess;
  let hosts: TestHosts;
  const agents: RunningAgent[] = [];
  const work = mkdtempSync(join(tmpdir(), 'canopy-build-replicas-'));
  const repoDir = join(work, 'repo');

  before(async () => {
    mkdirSync(repoDir);
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repoDir });
    git('init', '-q', '-b', 'main');
    writeFileSync(join(repoDir, 'build.sh'), 'set -e\nwhile [ ! -e "$WAIT_FOR" ]; do sleep 0.05; done\nmkdir -p out\necho "$WAIT_FOR" > out/which.txt\n');
    git('add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'one');
    hosts = createTestHosts(2, 'breplicas');
    a = await startTestServer(postgres!);
    const r = (await a.database.db.execute(sql`SELECT current_database() AS name`)) as unknown as { rows: { name: string }[] };
    const url = new URL(process.env['CANOPY_TEST_DATABASE_URL']!);
    url.pathname = `/${r.rows[0]!.name}`;
    b = await startControlCenter({ host: hosts.gateway, databaseUrl: url.toString(), adminPassword: ADMIN_PASSWORD });
    const creds = await enrollHosts(a, hosts.hosts);
    await mkNodes(a, 'brep.pool');
    await mkNodes(a, 'brep.app');
    for (const h of hosts.hosts) assert.ok((await a.call('PUT', `/api/v1/nodes/brep.pool/machines/${h.hostname}`)).status < 300);
    assert.equal((await a.call('PUT', '/api/v1/nodes/brep/build-settings', { pool: 'brep.pool' })).status, 200);
    for (const h of hosts.hosts) agents.push(startAgent(h, b.url, creds.get(h.hostname)!.token));
    await until('A to see both agents connected', async () => {
      const list = await a.call('GET', '/api/v1/agents?under=brep.pool');
      return list.body.items.length === 2 && list.body.items.every((x: { state: string }) => x.state === 'connected');
    }, 120_000);
  });
  after(async () => {
    for (const x of agents) await x.stop();
    await b?.stop();
    await a?.close();
    hosts?.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('four builds on a two-machine pool: two at a time, one task each, all stored', async () => {
    const ids: number[] = [];
    for (const n of [1, 2, 3, 4]) {
      const r = await a.call('POST', '/api/v1/builds', { nodePath: 'brep.app', repo: `file://${repoDir}`, command: 'sh build.sh', outputPath: 'out', version: `rep-${n}`, env: { WAIT_FOR: join(work, `m${n}`) } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      ids.push(r.body.id as number);
    }
    const build = async (id: number) => (await a.call('GET', `/api/v1/builds/${id}`)).body;
    await until('two builds running on B’s agents', async () => (await Promise.all(ids.map(build))).filter((x) => x.taskState === 'RUNNING').length === 2, 60_000);
    assert.equal((await Promise.all(ids.map(build))).filter((x) => x.state === 'queued').length, 2);
    for (const n of [1, 2, 3, 4]) writeFileSync(join(work, `m${n}`), '');
    for (const id of ids) {
      await until(`build ${id} finished`, async () => ['succeeded', 'failed', 'cancelled'].includes((await build(id)).state), 120_000).catch(async (err) => {
        throw new Error(`${(err as Error).message}: ${JSON.stringify(await build(id))}\n${b.log.slice(-20).join('\n')}`);
      });
      assert.equal((await build(id)).state, 'succeeded', JSON.stringify(await build(id)));
    }
    const tasks = (await a.database.db.execute(sql`SELECT owner_id::int AS id, count(*)::int AS n FROM tasks WHERE owner_kind = 'build' GROUP BY owner_id ORDER BY owner_id`)) as unknown as { rows: { id: number; n: number }[] };
    assert.deepEqual(tasks.rows, ids.map((id) => ({ id, n: 1 })), 'each build was given one task although both replicas orchestrate');
    const onB = await b.call('GET', `/api/v1/builds/${ids[3]}`);
    assert.equal(onB.body.artifact.version, 'rep-4', 'B sees the same builds');
  });
});
