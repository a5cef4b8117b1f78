/**
 * Issue 10, faults: the control center killed with -9 mid-job. It runs as its own process (the
 * `npm start` entry) on PGlite in a data dir, and on PostgreSQL when CANOPY_TEST_DATABASE_URL is set;
 * three agents on test hosts run a job of two batches whose commands take a few seconds. The server
 * dies while the first batch runs and is started again on the same data: the agents reconnect (with
 * backoff) and the job finishes with every host COMPLETE, each command run exactly once, and the
 * output the agents kept while the control center was gone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { canMakeTestHosts, createTestHosts, testBackends, type TestBackend, type TestHosts } from '@canopy/server/testing';
import { enrollHosts, startAgent, startControlCenter, until, type ControlCenterProcess, type RunningAgent } from './testing.ts';

const noHosts = canMakeTestHosts();
type Database = Awaited<ReturnType<TestBackend['open']>>;

/** A fresh PostgreSQL database (dropped by its close) and the URL a server process opens it with. */
async function postgresDatabase(backend: TestBackend): Promise<{ db: Database; url: string }> {
  const db = await backend.open();
  const r = (await db.db.execute(sql`SELECT current_database() AS name`)) as unknown as { rows: { name: string }[] };
  const u = new URL(process.env['CANOPY_TEST_DATABASE_URL']!);
  u.pathname = `/${r.rows[0]!.name}`;
  return { db, url: u.toString() };
}

for (const backend of testBackends()) {
  describe(`the control center killed with -9 mid-job (${backend.name})`, { skip: noHosts && `test hosts unavailable: ${noHosts}` }, () => {
    let hosts: TestHosts;
    let cc: ControlCenterProcess;
    let pg: { db: Database; url: string } | undefined;
    const agents: RunningAgent[] = [];
    const markers = mkdtempSync(join(tmpdir(), 'canopy-crash-'));

    before(async () => {
      hosts = createTestHosts(3, `crash-${backend.name}`);
      if (backend.name === 'postgres') pg = await postgresDatabase(backend);
      cc = await startControlCenter({ host: hosts.gateway, databaseUrl: pg?.url });
      const creds = await enrollHosts(cc, hosts.hosts);
      for (const h of hosts.hosts) agents.push(startAgent(h, cc.url, creds.get(h.hostname)!.token));
      await until('every agent connected', async () => {
        const r = await cc.call('GET', '/api/v1/agents');
        return hosts.hosts.every((h) => r.body.items.some((a: { hostname: string; state: string }) => a.hostname === h.hostname && a.state === 'connected'));
      }, 120_000);
    });
    after(async () => {
      for (const a of agents) await a.stop();
      await cc?.stop();
      await pg?.db.close();
      hosts?.close();
      rmSync(markers, { recursive: true, force: true });
    });

    test('agents reconnect to the restarted server and the job finishes: every host COMPLETE, run once, output kept', async () => {
      // Each host appends to its own marker, named by its address (test hosts share one filesystem).
      const script = `echo started\nsleep 3\necho x >> ${markers}/marker-$(ip -o -4 addr show eth0 | awk '{print $4}' | cut -d/ -f1)\necho done\n`;
      const r = await cc.call('POST', '/api/v1/jobs', { target: { hosts: hosts.hosts.map((h) => h.hostname) }, script, batch: { size: 2 } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.deepEqual(r.body.batches, [2, 1]);
      const id = r.body.id as number;
      const job = async () => (await cc.call('GET', `/api/v1/jobs/${id}`)).body;
      await until('the first batch running on its agents', async () => (await job()).hosts.filter((h: { taskState: string | null }) => h.taskState === 'RUNNING').length === 2);

      await cc.kill9();
      await cc.restart();
      await until('the job to finish', async () => ['succeeded', 'failed', 'stopped'].includes((await job()).state), 120_000).catch(async (err) => {
        const logs = agents.map((a) => `--- ${a.host.hostname}\n${a.log.slice(-10).join('\n')}`).join('\n');
        throw new Error(`${(err as Error).message}: ${JSON.stringify(await job())}\n${logs}\n--- server\n${cc.log.slice(-20).join('\n')}`);
      });

      for (const a of agents) assert.ok(a.log.some((l) => l.includes('session backoff')), `${a.host.hostname} lost its session and reconnected`);
      const d = await job();
      assert.equal(d.state, 'succeeded', JSON.stringify(d));
      for (const h of d.hosts) {
        assert.equal(h.taskState, 'COMPLETE', h.hostname);
        assert.equal(h.attempt, 1, `${h.hostname} was dispatched once`);
        assert.equal(h.exitCode, 0);
      }
      assert.deepEqual(d.groups.map((g: { count: number; stdout: string }) => [g.count, g.stdout]), [[3, 'started\ndone\n']]);
      for (const h of hosts.hosts) assert.equal(readFileSync(join(markers, `marker-${h.address}`), 'utf8'), 'x\n', `${h.hostname} ran its command exactly once`);
    });
  });
}
