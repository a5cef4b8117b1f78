/**
 * Issue 10, the session: several control-center replicas over one PostgreSQL. Replica A runs in this
 * process (driven through its API); replica B is its own process on the same database, and the
 * agents on the test hosts connect only to B. Work created on A reaches them, their reports
 * (written by B) show in A's views, a stop given on A stops commands on B's agents, and a job's
 * batches advance exactly once although both replicas run the orchestrator.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { ADMIN_PASSWORD, canMakeTestHosts, createTestHosts, mkNodes, startTestServer, testBackends, type TestHosts, type TestServer } from '@canopy/server/testing';
import { enrollHosts, startAgent, startControlCenter, until, type ControlCenterProcess, type RunningAgent } from './testing.ts';

const noHosts = canMakeTestHosts();
const postgres = testBackends().find((b) => b.name === 'postgres');
const skip = !postgres
  ? 'SKIPPED: two replicas need one PostgreSQL (PGlite is one process’s); set CANOPY_TEST_DATABASE_URL=postgres://root@127.0.0.1:5432/postgres'
  : noHosts && `test hosts unavailable: ${noHosts}`;

describe('two control-center replicas over one PostgreSQL', { skip }, () => {
  let a: TestServer;
  let b: ControlCenterProcess;
  let hosts: TestHosts;
  const agents: RunningAgent[] = [];

  const job = async (id: number) => (await a.call('GET', `/api/v1/jobs/${id}`)).body;
  const settled = (id: number, state: string) =>
    until(`job ${id} ${state}`, async () => (await job(id)).state === state, 60_000).catch(async (err) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(await job(id))}\n${b.log.slice(-20).join('\n')}`);
    });

  before(async () => {
    hosts = createTestHosts(3, 'replicas');
    a = await startTestServer(postgres!);
    const r = (await a.database.db.execute(sql`SELECT current_database() AS name`)) as unknown as { rows: { name: string }[] };
    const url = new URL(process.env['CANOPY_TEST_DATABASE_URL']!);
    url.pathname = `/${r.rows[0]!.name}`;
    b = await startControlCenter({ host: hosts.gateway, databaseUrl: url.toString(), adminPassword: ADMIN_PASSWORD });
    const creds = await enrollHosts(a, hosts.hosts);
    await mkNodes(a, 'rep.hosts');
    for (const h of hosts.hosts) assert.ok((await a.call('PUT', `/api/v1/nodes/rep.hosts/machines/${h.hostname}`)).status < 300);
    for (const h of hosts.hosts) agents.push(startAgent(h, b.url, creds.get(h.hostname)!.token));
  });
  after(async () => {
    for (const x of agents) await x.stop();
    await b?.stop();
    await a?.close();
    hosts?.close();
  });

  test('replica A shows the agents connected to replica B', async () => {
    await until('A to see every agent connected', async () => {
      const r = await a.call('GET', '/api/v1/agents?under=rep.hosts');
      return r.body.items.length === 3 && r.body.items.every((x: { state: string }) => x.state === 'connected');
    }, 120_000);
    assert.equal(a.services.dispatcher.sessionCount, 0, 'no agent holds a session with A');
  });

  test('a job created on A runs on B’s agents in batches, each host once; B’s reports show in A’s view', async () => {
    const script = `ip -o -4 addr show eth0 | awk '{print $4}'\n`;
    const r = await a.call('POST', '/api/v1/jobs', { target: { under: 'rep.hosts' }, script, batch: { size: 1 } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body.batches, [1, 1, 1]);
    await settled(r.body.id, 'succeeded');
    const d = await job(r.body.id);
    for (const h of hosts.hosts) {
      const row = d.hosts.find((x: { hostname: string }) => x.hostname === h.hostname);
      assert.equal(row.taskState, 'COMPLETE');
      assert.equal(row.attempt, 1);
      assert.equal(row.exitCode, 0);
    }
    assert.deepEqual(d.groups.map((g: { stdout: string }) => g.stdout).sort(), hosts.hosts.map((h) => `${h.address}/24\n`).sort(), 'each host’s own output');
    const tasks = (await a.database.db.execute(sql`SELECT count(*)::int AS n FROM tasks WHERE owner_kind = 'job' AND owner_id = ${r.body.id}`)) as unknown as { rows: { n: number }[] };
    assert.equal(tasks.rows[0]!.n, 3, 'one task per host: no batch dispatched twice by the two orchestrators');
    const onB = await b.call('GET', `/api/v1/jobs/${r.body.id}`);
    assert.equal(onB.body.state, 'succeeded', 'B sees the same job');
  });

  test('a stop given on A stops the commands running on B’s agents', async () => {
    const marker = `/tmp/canopy-replica-stop-${process.pid}`;
    const r = await a.call('POST', '/api/v1/jobs', { target: { under: 'rep.hosts' }, command: `sleep 30; touch ${marker}`, batch: { size: 2 } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await until('running on two agents', async () => (await job(r.body.id)).hosts.filter((h: { taskState: string | null }) => h.taskState === 'RUNNING').length === 2, 60_000);
    assert.equal((await a.call('POST', `/api/v1/jobs/${r.body.id}/stop`)).status, 200);
    await settled(r.body.id, 'stopped');
    const d = await job(r.body.id);
    assert.equal(d.counts.stopped, 2);
    assert.equal(d.counts.skipped, 1);
    assert.equal(existsSync(marker), false);
  });
});
