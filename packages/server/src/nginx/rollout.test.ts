/**
 * The config rollout orchestrator against the database: which machine gets which version when, as
 * the tasks' reports come in. Agents are not run here (config-apply.test.ts in the agent package
 * runs real ones); each task's end is written the way the dispatcher writes an agent's report.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { TaskState, type TaskStateValue } from '@canopy/core';
import { SYSTEM_ACTOR } from '../changes/index.ts';
import { AGENT_STATUS_TOPIC, TASK_STATUS_TOPIC } from '../agents/index.ts';
import { agentsConnected, agentState, applyReports } from '../agents/tasks-repo.ts';
import { createServices, type Services } from '../services.ts';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { findProgram } from './nginx-binary.ts';
import { expectStatus, mkDiscoveryService, mkDomain, mkInstance, mkNodes, setInstance } from './proxy-fixtures.test-util.ts';

const missing = findProgram('nginx') === null ? 'nginx not installed: apt-get install nginx-light' : '';
if (missing) console.error(`\n!!! SKIPPING rollout tests: ${missing}\n`);

interface TaskRow {
  id: string;
  hostname: string;
  version: number;
  state: number;
  spec: { target: string; cluster: string; version: number; files: { name: string; content: string }[] };
}

for (const backend of testBackends()) {
  describe(`config rollouts (${backend.name})`, { skip: missing || false }, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend);
    });
    after(() => s.close());

    /** Cluster `<p>.edge` with machines `<p>-a`, `<p>-b`, `<p>-c`, serving `<p>.web`; returns its URL. */
    async function setup(p: string, port: number): Promise<string> {
      await mkNodes(s, `${p}.edge`);
      for (const m of ['a', 'b', 'c']) expectStatus(await s.call('POST', '/api/v1/machines', { hostname: `${p}-${m}`, ips: [`10.7.${port % 200}.${m.charCodeAt(0)}`], nodes: [`${p}.edge`], status: 'online' }), 201);
      await mkDiscoveryService(s, `${p}.web`, port);
      await mkInstance(s, `${p}.web`, `${p}-web1`, '10.6.0.1', port);
      await mkDomain(s, `${p}.example.com`);
      expectStatus(await s.call('PUT', `/api/v1/nodes/${p}.web/nginx`, { domainUris: [{ domain: `${p}.example.com`, uri: '/' }], port }), 201);
      expectStatus(await s.call('PUT', `/api/v1/nginx/clusters/${p}.edge`, { domains: [`${p}.example.com`] }), 201);
      return `/api/v1/nginx/clusters/${p}.edge`;
    }

    const tasks = async (p: string): Promise<TaskRow[]> => {
      const r = await s.database.db.execute(sql`SELECT t.id, m.hostname, (t.spec->>'version')::int AS version, t.state, t.spec FROM tasks t JOIN machines m ON m.id = t.machine_id
        WHERE t.kind = 'config' AND m.hostname LIKE ${`${p}-%`} ORDER BY t.created_at, m.hostname`);
      return (r as unknown as { rows: TaskRow[] }).rows;
    };
    /** Wait for the feed-driven orchestrator to settle: until `check` holds. */
    const until = async (what: string, check: () => Promise<boolean>) => {
      for (let i = 0; i < 400; i++) {
        if (await check()) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      assert.fail(`timed out waiting for ${what}`);
    };
    /** End a task as its agent would report it (what the dispatcher writes). */
    async function report(t: TaskRow, state: TaskStateValue, error?: string): Promise<void> {
      const machineId = s.services.machines.model.byHostname(t.hostname)!.id;
      await s.services.writer.run(SYSTEM_ACTOR, async (w) => {
        const out = await applyReports(w.tx, [{ machineId, r: { taskId: t.id, state, message: 'test', ...(error ? { error } : {}), at: new Date().toISOString() } }]);
        w.emit(TASK_STATUS_TOPIC, { tasks: out });
      });
    }
    const view = async (url: string) => expectStatus(await s.call('GET', `${url}/machines`), 200).body;
    const open = (list: TaskRow[]) => list.filter((t) => t.state < TaskState.COMPLETE);

    test('a version goes to one machine first, the rest after it applied; the view follows', async () => {
      const url = await setup('ro', 8301);
      expectStatus(await s.call('POST', `${url}/apply`, { reason: 'v1' }), 200);
      await until('the canary task', async () => (await tasks('ro')).length === 1);
      const [canary] = await tasks('ro');
      assert.equal(canary!.hostname, 'ro-a', 'no agent connected: the first by hostname');
      assert.deepEqual([canary!.spec.target, canary!.spec.cluster, canary!.spec.version], ['nginx', 'ro.edge', 1]);
      assert.deepEqual(canary!.spec.files.map((f) => f.name), ['00-canopy-http.conf', '10-canopy-upstreams.conf', '20-canopy-servers.conf']);
      const during = await view(url);
      assert.deepEqual([during.latest, during.rollout.state, during.rollout.canary], [1, 'canary', 'ro-a']);
      assert.deepEqual(during.machines.map((m: { hostname: string; state: string; agent: string }) => [m.hostname, m.state, m.agent]), [['ro-a', 'applying', 'never connected'], ['ro-b', 'lagging', 'never connected'], ['ro-c', 'lagging', 'never connected']]);
      await report(canary!, TaskState.COMPLETE);
      await until('the rest', async () => (await tasks('ro')).length === 3);
      assert.deepEqual((await tasks('ro')).slice(1).map((t) => [t.hostname, t.version]), [['ro-b', 1], ['ro-c', 1]]);
      for (const t of open(await tasks('ro'))) await report(t, TaskState.COMPLETE);
      await until('done', async () => (await view(url)).rollout.state === 'done');
      const done = await view(url);
      assert.ok(done.machines.every((m: { version: number; state: string; lagging: boolean }) => m.version === 1 && m.state === 'current' && !m.lagging));
    });

    test('a failure on the first machine stops the rollout: the others keep their version and are flagged lagging', async () => {
      const url = await setup('rf', 8302);
      expectStatus(await s.call('POST', `${url}/apply`, { reason: 'v1' }), 200);
      await until('v1 canary', async () => (await tasks('rf')).length === 1);
      await report((await tasks('rf'))[0]!, TaskState.COMPLETE);
      await until('v1 rest', async () => (await tasks('rf')).length === 3);
      for (const t of open(await tasks('rf'))) await report(t, TaskState.COMPLETE);
      await until('v1 done', async () => (await view(url)).rollout.state === 'done');
      expectStatus(await s.call('PUT', '/api/v1/nodes/rf.web/nginx', { domainUris: [{ domain: 'rf.example.com', uri: '/' }], port: 8302, balance: { method: 'least_conn' } }), 200);
      expectStatus(await s.call('POST', `${url}/apply`, { reason: 'v2' }), 200);
      await until('v2 canary', async () => (await tasks('rf')).length === 4);
      const v2 = (await tasks('rf'))[3]!;
      assert.deepEqual([v2.hostname, v2.version], ['rf-a', 2]);
      await report(v2, TaskState.FAILED, 'nginx -t refused v2: duplicate upstream');
      await until('failed', async () => (await view(url)).rollout?.state === 'failed');
      const v = await view(url);
      assert.equal(v.rollout.failedOn, 'rf-a');
      assert.match(v.rollout.error, /^rf-a: nginx -t refused v2/);
      assert.deepEqual(v.machines.map((m: { hostname: string; version: number; state: string; failedVersion: number | null }) => [m.hostname, m.version, m.state, m.failedVersion]), [['rf-a', 1, 'failed', 2], ['rf-b', 1, 'lagging', null], ['rf-c', 1, 'lagging', null]]);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal((await tasks('rf')).length, 4, 'no task for the others');
      const audit = expectStatus(await s.call('GET', '/api/v1/audit?operation=nginx.rollout.failed'), 200).body;
      assert.ok(JSON.stringify(audit).includes('rf.edge'), 'the failure is audited');

      // A rollback is a new version (v3) and goes out the same way, from the first machine again.
      expectStatus(await s.call('POST', `${url}/rollback`, { version: 1 }), 200);
      await until('v3 canary', async () => (await tasks('rf')).length === 5);
      const v3 = (await tasks('rf'))[4]!;
      assert.deepEqual([v3.hostname, v3.version], ['rf-a', 3]);
      await report(v3, TaskState.COMPLETE);
      await until('v3 rest', async () => (await tasks('rf')).length === 7);
      for (const t of open(await tasks('rf'))) await report(t, TaskState.COMPLETE);
      await until('v3 done', async () => (await view(url)).rollout.state === 'done');
      assert.deepEqual((await view(url)).machines.map((m: { version: number; error: string | null }) => [m.version, m.error]), [[3, null], [3, null], [3, null]]);
    });

    test('a backend change is a version too, rolled out the same way', async () => {
      const url = await setup('rb', 8305);
      expectStatus(await s.call('POST', `${url}/apply`, { reason: 'v1' }), 200);
      await until('canary', async () => (await tasks('rb')).length === 1);
      await setInstance(s, 'rb.web', 'rb-web1', 8305, { status: 'draining' });
      await until('v2 published', async () => (await view(url)).latest === 2);
      // v2 supersedes v1 and has a canary of its own: a machine not busy applying v1.
      await until('v2 canary', async () => (await tasks('rb')).some((t) => t.version === 2));
      assert.deepEqual((await tasks('rb')).map((t) => [t.hostname, t.version]), [['rb-a', 1], ['rb-b', 2]]);
      assert.match((await tasks('rb'))[1]!.spec.files[1]!.content, /down;/);
      await report((await tasks('rb'))[0]!, TaskState.COMPLETE);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal((await tasks('rb')).length, 2, 'nothing more until the v2 canary applied');
      await report((await tasks('rb'))[1]!, TaskState.COMPLETE);
      await until('v2 rest', async () => (await tasks('rb')).length === 4);
      assert.deepEqual((await tasks('rb')).slice(2).map((t) => [t.hostname, t.version]), [['rb-a', 2], ['rb-c', 2]]);
    });

    test('an unreachable machine is skipped, lags, and gets the version when its agent is back; orphaned is not refused', async () => {
      const url = await setup('ru', 8306);
      const id = s.services.machines.model.byHostname('ru-a')!.id;
      const agent = (state: 'connected' | 'unreachable') =>
        s.services.writer.run(SYSTEM_ACTOR, async (w) => {
          await agentsConnected(w.tx, [{ machineId: id, version: 'test', facts: {} }], 'test');
          if (state === 'unreachable') await agentState(w.tx, [id], 'unreachable');
          w.emit(AGENT_STATUS_TOPIC, { machineIds: [id], state });
        });
      await agent('unreachable');
      expectStatus(await s.call('POST', `${url}/apply`, { reason: 'v1' }), 200);
      await until('canary', async () => (await tasks('ru')).length === 1);
      assert.equal((await tasks('ru'))[0]!.hostname, 'ru-b', 'not the unreachable one');
      await report((await tasks('ru'))[0]!, TaskState.COMPLETE);
      await until('rest', async () => (await tasks('ru')).length === 2);
      assert.deepEqual((await tasks('ru')).map((t) => t.hostname), ['ru-b', 'ru-c']);
      await report((await tasks('ru'))[1]!, TaskState.COMPLETE);
      await until('ru-c current', async () => (await view(url)).machines[2].state === 'current');
      const v = await view(url);
      assert.deepEqual([v.rollout.state, v.machines[0].state, v.machines[0].agent], ['rolling', 'lagging', 'unreachable']);
      await agent('connected');
      await until('ru-a’s task', async () => (await tasks('ru')).some((t) => t.hostname === 'ru-a'));
      const late = (await tasks('ru')).find((t) => t.hostname === 'ru-a')!;
      await s.services.writer.run(SYSTEM_ACTOR, async (w) => {
        const out = await applyReports(w.tx, [{ machineId: id, r: { taskId: late.id, state: TaskState.ORPHANED, message: 'orphaned', at: new Date().toISOString() } }]);
        w.emit(TASK_STATUS_TOPIC, { tasks: out });
      });
      await until('folded', async () => (await view(url)).machines[0].error !== null);
      const after = await view(url);
      assert.equal(after.rollout.state, 'rolling', 'an unreachable machine does not stop the rollout');
      assert.match(after.machines[0].error, /the agent was unreachable/);
    });

    test('a machine bound to the cluster later gets the current version', async () => {
      const url = await setup('rj', 8303);
      expectStatus(await s.call('POST', `${url}/apply`, { reason: 'v1' }), 200);
      await until('canary', async () => (await tasks('rj')).length === 1);
      await report((await tasks('rj'))[0]!, TaskState.COMPLETE);
      await until('rest', async () => (await tasks('rj')).length === 3);
      for (const t of open(await tasks('rj'))) await report(t, TaskState.COMPLETE);
      await until('done', async () => (await view(url)).rollout.state === 'done');
      expectStatus(await s.call('POST', '/api/v1/machines', { hostname: 'rj-d', ips: ['10.7.9.9'], nodes: ['rj.edge'], status: 'online' }), 201);
      await until('the newcomer’s task', async () => (await tasks('rj')).some((t) => t.hostname === 'rj-d'));
      assert.equal((await view(url)).machines.find((m: { hostname: string }) => m.hostname === 'rj-d').state, 'applying');
    });

    test('an LVS version goes out the same way, as one keepalived file', { skip: findProgram('keepalived') === null ? 'keepalived not installed' : false }, async () => {
      await mkNodes(s, 'rl.lb');
      for (const m of ['a', 'b']) expectStatus(await s.call('POST', '/api/v1/machines', { hostname: `rl-${m}`, ips: [`10.7.77.${m.charCodeAt(0)}`], nodes: ['rl.lb'], status: 'online' }), 201);
      await mkDiscoveryService(s, 'rl.web', 80);
      await mkInstance(s, 'rl.web', 'rl-web1', '10.21.7.1', 80);
      expectStatus(await s.call('PUT', '/api/v1/nodes/rl.web/lvs', { virtualServices: [{ vip: '10.20.7.1', port: 80 }] }), 201);
      expectStatus(await s.call('PUT', '/api/v1/lvs/clusters/rl.lb', { services: ['rl.web'] }), 201);
      expectStatus(await s.call('POST', '/api/v1/lvs/clusters/rl.lb/apply', { reason: 'v1' }), 200);
      await until('the LVS canary', async () => (await tasks('rl')).length === 1);
      const [t] = await tasks('rl');
      assert.deepEqual([t!.hostname, t!.spec.target, t!.spec.files.map((f) => f.name)], ['rl-a', 'lvs', ['canopy-lvs.conf']]);
      assert.match(t!.spec.files[0]!.content, /virtual_server 10\.20\.7\.1 80/);
      const r = await s.database.db.execute(sql`SELECT owner_kind FROM tasks WHERE id = ${t!.id}`);
      assert.equal((r as unknown as { rows: { owner_kind: string }[] }).rows[0]!.owner_kind, 'lvs-config');
      await report(t!, TaskState.COMPLETE);
      await until('the LVS rest', async () => (await tasks('rl')).length === 2);
      assert.equal((await view('/api/v1/lvs/clusters/rl.lb')).machines[0].state, 'current');
      assert.equal((await view('/api/v1/nginx/clusters/rl.lb')).latest, 0, 'the nginx view of the node knows nothing of it');
    });

    test('the machines view needs a cluster the caller may read', async () => {
      await mkNodes(s, 'rv.plain');
      assert.equal((await s.call('GET', '/api/v1/nginx/clusters/no.such.node/machines')).status, 404);
      assert.equal((await s.call('GET', '/api/v1/nginx/clusters/bad..path/machines')).status, 400);
      const empty = expectStatus(await s.call('GET', '/api/v1/lvs/clusters/rv.plain/machines'), 200).body;
      assert.deepEqual([empty.latest, empty.rollout, empty.machines], [0, null, []]);
    });

    test('two replicas deciding at once dispatch each step once', { skip: backend.name === 'pglite' ? 'PGlite serves one process: no second replica' : false }, async () => {
      const url = await setup('r2', 8304);
      const second: Services = createServices(s.database, { onError: (err) => console.error(err) });
      await second.start();
      try {
        expectStatus(await s.call('POST', `${url}/apply`, { reason: 'v1' }), 200);
        await second.feed.catchUp();
        const cluster = s.services.tree.model.byPath('r2.edge')!.id;
        await Promise.all([s.services.rollouts.nginx.advance(cluster), second.rollouts.nginx.advance(cluster), second.rollouts.nginx.advance(cluster)]);
        await until('canary', async () => (await tasks('r2')).length >= 1);
        await new Promise((r) => setTimeout(r, 200));
        assert.equal((await tasks('r2')).length, 1, 'one canary task');
        const canary = (await tasks('r2'))[0]!;
        const machineId = s.services.machines.model.byHostname(canary.hostname)!.id;
        await second.writer.run(SYSTEM_ACTOR, async (w) => {
          const out = await applyReports(w.tx, [{ machineId, r: { taskId: canary.id, state: TaskState.COMPLETE, message: 'test', at: new Date().toISOString() } }]);
          w.emit(TASK_STATUS_TOPIC, { tasks: out });
        });
        await until('rest', async () => (await tasks('r2')).length >= 3);
        await Promise.all([s.services.rollouts.nginx.advance(cluster), second.rollouts.nginx.advance(cluster)]);
        await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual((await tasks('r2')).map((t) => t.hostname), ['r2-a', 'r2-b', 'r2-c'], 'one task per machine');
      } finally {
        await second.stop();
      }
    });
  });
}
