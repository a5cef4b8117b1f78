/**
 * Deployments end to end: a control center, three agents as real processes on test hosts, a real
 * HTTP app shipped as tar.gz artifacts, rolled out through `POST /api/v1/deployments` — the first
 * deployment starting a process declared `deployed`, a canary paused until resumed, pause, stop and
 * rollback, a corrupt artifact stopping everything at staging, and a health check that never passes
 * rolling the batch back. Which version each host serves is asked of the app itself.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from 'tar';
import { canMakeTestHosts, mkNodes, testBackends, type TestHosts, type TestServer } from '@canopy/server/testing';
import { startFleet, until, type Fleet, type RunningAgent } from '../testing.ts';

const noHosts = canMakeTestHosts();
const PORT = 18090;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// Answers its version; /health is 500 when the release ships a SICK file.
const SERVER = `
import { createServer } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
const version = readFileSync('VERSION', 'utf8').trim();
const sick = existsSync('SICK');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
const server = createServer((req, res) => {
  res.statusCode = req.url === '/health' && sick ? 500 : 200;
  res.end(version);
}).listen(Number(process.env.PORT), '0.0.0.0');
`;

interface Detail {
  id: number;
  state: string;
  reason: string | null;
  version: string;
  previousVersion: string | null;
  rolledBackBy: number | null;
  batches: number[];
  hosts: { hostname: string; state: string; reason: string | null; task: string | null; batch: number }[];
}

for (const backend of testBackends()) {
  describe(`deployments on test hosts (${backend.name})`, { skip: noHosts && `test hosts unavailable: ${noHosts}` }, () => {
    let s: TestServer;
    let hosts: TestHosts;
    let agents: RunningAgent[] = [];
    let fleet: Fleet | undefined;
    let work: string;
    let store: string;

    const detail = async (id: number) => (await s.call('GET', `/api/v1/deployments/${id}`)).body as Detail;
    /** What each host's app answers, by hostname ('down' when nothing listens). */
    const serving = async () => {
      const out: Record<string, string> = {};
      for (const h of hosts.hosts) {
        out[h.hostname] = await fetch(`http://${h.address}:${PORT}/`, { signal: AbortSignal.timeout(2000) }).then((r) => r.text(), () => 'down');
      }
      return out;
    };
    const all = (version: string) => Object.fromEntries(hosts.hosts.map((h) => [h.hostname, version]));
    const reaches = async (id: number, state: string | ((d: Detail) => boolean)) => {
      const ok = typeof state === 'string' ? (d: Detail) => d.state === state : state;
      let last: Detail | undefined;
      await until(`deployment #${id} ${typeof state === 'string' ? state : 'as expected'}`, async () => ok((last = await detail(id))), 90_000).catch((err) => {
        const logs = agents.map((a) => `--- ${a.host.hostname}\n${a.log.slice(-10).join('\n')}`).join('\n');
        throw new Error(`${(err as Error).message}: ${JSON.stringify(last, null, 1)}\n${logs}`);
      });
      return last!;
    };
    const deploy = async (version: string, strategy: Record<string, unknown> = {}) => {
      const r = await s.call('POST', '/api/v1/deployments', { nodePath: 'corp.web', version, strategy: { monitorSeconds: 0, ...strategy } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body as Detail;
    };
    const act = async (id: number, action: string) => {
      const r = await s.call('POST', `/api/v1/deployments/${id}/${action}`);
      assert.ok(r.status < 300, `${action}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body as Detail;
    };

    /** Push a tar.gz of the app at `version` (`sick`: its health check fails). */
    async function push(version: string, opts: { sick?: boolean } = {}): Promise<string> {
      const src = join(work, `src-${version}`);
      mkdirSync(src);
      writeFileSync(join(src, 'server.mjs'), SERVER);
      writeFileSync(join(src, 'VERSION'), `${version}\n`);
      if (opts.sick) writeFileSync(join(src, 'SICK'), '');
      const file = join(work, `${version}.tar.gz`);
      await create({ gzip: true, file, cwd: src, portable: true }, readdirSync(src));
      const body = readFileSync(file);
      const r = await s.app.inject({ method: 'PUT', url: `/api/v1/artifacts/corp.web/${version}?sha256=${sha(body)}`, payload: body, headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/octet-stream' } });
      assert.equal(r.statusCode, 201, r.body);
      return sha(body);
    }

    before(async () => {
      work = mkdtempSync(join(tmpdir(), 'canopy-rollout-'));
      store = join(work, 'store');
      fleet = await startFleet({
        backend,
        count: 3,
        name: `roll-${backend.name}`,
        server: { agents: { heartbeatMs: 500 }, artifacts: { dir: store, maxBytes: 64 * 1024 * 1024, retention: { keepLast: 50, keepDeployedDays: 30 }, sweepMinutes: 0 } },
      });
      ({ s, hosts, agents } = fleet);
      await mkNodes(s, 'corp.web');
      for (const h of hosts.hosts) assert.ok((await s.call('PUT', `/api/v1/nodes/corp.web/machines/${h.hostname}`)).status < 300);
      assert.ok((await s.call('PUT', '/api/v1/services/corp.web', { ports: [{ name: 'http', port: PORT }] })).status < 300);
      for (const v of ['1.0.0', '2.0.0', '3.0.0']) await push(v);
    });
    after(async () => {
      try {
        await s?.call('DELETE', '/api/v1/nodes/corp.web/process');
        await until('apps stopped', async () => Object.values(await serving()).every((v) => v === 'down'), 30_000).catch(() => {});
      } finally {
        await fleet?.close();
        rmSync(work, { recursive: true, force: true });
      }
    });

    test('a process declared `deployed` waits for its first deployment, which starts it host by host', async () => {
      const r = await s.call('PUT', '/api/v1/nodes/corp.web/process', {
        argv: [process.execPath, 'server.mjs'],
        env: { PORT: String(PORT) },
        ports: [{ port: PORT, name: 'http' }],
        health: { type: 'http', port: PORT, path: '/health', intervalSeconds: 0.2, unhealthyThreshold: 2 },
        drainSeconds: 0.2,
        deployed: true,
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const tasks = (await s.call('GET', '/api/v1/nodes/corp.web/processes')).body.items as { task: string | null }[];
      assert.ok(tasks.every((t) => t.task === null), `nothing started before a release: ${JSON.stringify(tasks)}`);

      const d = await deploy('1.0.0', { batch: 2 });
      assert.deepEqual(d.batches, [2, 1]);
      assert.equal(d.previousVersion, null);
      const done = await reaches(d.id, 'succeeded');
      assert.deepEqual(done.hosts.map((h) => h.state), ['updated', 'updated', 'updated']);
      assert.deepEqual(await serving(), all('1.0.0'));
      const where = (await s.call('GET', '/api/v1/nodes/corp.web/deploy/running')).body.items as { hostname: string; version: string }[];
      assert.deepEqual(where.map((w) => w.version), ['1.0.0', '1.0.0', '1.0.0']);
      const log = await s.call('GET', `/api/v1/deployments/${d.id}/hosts/${hosts.hosts[0]!.hostname}/log`);
      assert.match(log.body.text, /verified sha256/);
      await until('registered in discovery', async () => {
        const inst = ((await s.call('GET', '/api/v1/services/corp.web/instances')).body.instances ?? []) as { status: string }[];
        return inst.length === 3 && inst.every((i) => i.status === 'up');
      });
    });

    test('bad input is refused with the reason and creates nothing', async () => {
      const before = (await s.call('GET', '/api/v1/deployments?node=corp.web')).body.items.length;
      const unknown = await s.call('POST', '/api/v1/deployments', { nodePath: 'corp.web', version: '9.9.9' });
      assert.equal(unknown.status, 400);
      assert.match(JSON.stringify(unknown.body), /no version 9\.9\.9/);
      for (const strategy of [{ batch: 0 }, { maxFailureRatio: 2 }, { order: 'sideways' }, { monitorSeconds: -1 }, { surprise: true }]) {
        const r = await s.call('POST', '/api/v1/deployments', { nodePath: 'corp.web', version: '2.0.0', strategy });
        assert.equal(r.status, 400, `${JSON.stringify(strategy)}: ${JSON.stringify(r.body)}`);
      }
      await mkNodes(s, 'corp.bare');
      const bare = await s.call('POST', '/api/v1/deployments', { nodePath: 'corp.bare', version: '1.0.0' });
      assert.ok(bare.status === 400 || bare.status === 409, JSON.stringify(bare.body));
      assert.equal((await s.call('GET', '/api/v1/deployments?node=corp.web')).body.items.length, before);
      assert.deepEqual(await serving(), all('1.0.0'));
    });

    test('a canary waits for a resume with every host staged; a second deployment is a 409 meanwhile', async () => {
      const d = await deploy('2.0.0', { canary: {} });
      assert.equal(d.previousVersion, '1.0.0');
      const paused = await reaches(d.id, 'paused');
      assert.match(paused.reason ?? '', /canary/);
      assert.deepEqual(paused.hosts.map((h) => h.state), ['updated', 'staged', 'staged']);
      assert.deepEqual(Object.values(await serving()), ['2.0.0', '1.0.0', '1.0.0']);

      const again = await s.call('POST', '/api/v1/deployments', { nodePath: 'corp.web', version: '3.0.0' });
      assert.equal(again.status, 409);
      assert.match(again.body.detail, new RegExp(`deployment #${d.id}`));
      const restart = await s.call('POST', '/api/v1/nodes/corp.web/processes/restart');
      assert.equal(restart.status, 409, 'process actions wait for the deployment');

      await act(d.id, 'resume');
      await reaches(d.id, 'succeeded');
      assert.deepEqual(await serving(), all('2.0.0'));
    });

    test('pause and stop leave the service running, half switched but never half started; rollback brings it back', async () => {
      const d = await deploy('3.0.0', { batch: 1, delaySeconds: 30 });
      await reaches(d.id, (x) => x.hosts[0]!.state === 'updated');
      await act(d.id, 'pause');
      const paused = await reaches(d.id, 'paused');
      assert.match(paused.reason ?? '', /paused by admin/);
      await act(d.id, 'stop');
      const stopped = await reaches(d.id, 'stopped');
      assert.deepEqual(stopped.hosts.map((h) => h.state), ['updated', 'skipped', 'skipped']);
      assert.deepEqual(Object.values(await serving()), ['3.0.0', '2.0.0', '2.0.0']);
      assert.equal((await s.call('POST', '/api/v1/nodes/corp.web/processes/restart')).status, 409, 'a stopped half way deployment holds the node');

      const back = await act(d.id, 'rollback');
      assert.notEqual(back.id, d.id);
      assert.equal(back.version, '2.0.0');
      const rb = await reaches(back.id, 'succeeded');
      assert.deepEqual(rb.hosts.map((h) => h.state), ['updated', 'updated', 'updated']);
      assert.deepEqual(await serving(), all('2.0.0'));
      assert.equal((await detail(d.id)).rolledBackBy, back.id);
      // The hosts the rollback found on 2.0.0 keep their processes: the node's orchestrator, asked
      // again, restarts nothing.
      const tasksBefore = (await s.call('GET', '/api/v1/nodes/corp.web/processes')).body.items.map((p: { taskId: string }) => p.taskId);
      await s.services.processes.orchestrator.advance(s.services.tree.model.byPath('corp.web')!.id);
      const tasksAfter = (await s.call('GET', '/api/v1/nodes/corp.web/processes')).body.items.map((p: { taskId: string }) => p.taskId);
      assert.deepEqual(tasksAfter, tasksBefore);
    });

    test('an artifact corrupted in storage is refused at staging: the deployment pauses with the reason, no host changed', async () => {
      const digest = await push('4.0.0');
      const blob = (readdirSync(store, { recursive: true }) as string[]).map((f) => join(store, f)).find((f) => f.endsWith(digest));
      assert.ok(blob, `the store holds ${digest}`);
      const bytes = readFileSync(blob);
      bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
      writeFileSync(blob, bytes);

      const d = await deploy('4.0.0', { batch: 3 });
      const paused = await reaches(d.id, 'paused');
      assert.match(paused.reason ?? '', /corrupt|sha256/);
      assert.ok(paused.hosts.some((h) => /artifact refused \(corrupt\)/.test(h.reason ?? '')), JSON.stringify(paused.hosts));
      assert.deepEqual(await serving(), all('2.0.0'));
      await act(d.id, 'stop');
      await reaches(d.id, 'stopped');
      assert.notEqual((await s.call('POST', '/api/v1/nodes/corp.web/processes/restart')).status, 409, 'a stop before any switch holds nothing');
      await until('restarted on 2.0.0', async () => JSON.stringify(await serving()) === JSON.stringify(all('2.0.0')));
    });

    test('a health check that never passes fails the batch; failureAction rollback puts the old version back', async () => {
      await push('5.0.0', { sick: true });
      const d = await deploy('5.0.0', { batch: 1, healthTimeoutSeconds: 3, failureAction: 'rollback' });
      const failed = await reaches(d.id, (x) => x.rolledBackBy !== null);
      assert.equal(failed.state, 'rolled-back');
      assert.equal(failed.hosts[0]!.state, 'failed');
      assert.match(failed.hosts[0]!.reason ?? '', /health/);
      assert.deepEqual(failed.hosts.slice(1).map((h) => h.state), ['skipped', 'skipped'], 'only the first batch was touched');
      const rb = await reaches(failed.rolledBackBy!, 'succeeded');
      assert.equal(rb.version, '2.0.0');
      assert.deepEqual(await serving(), all('2.0.0'));
    });
  });
}
