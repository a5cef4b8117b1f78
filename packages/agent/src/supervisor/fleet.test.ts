/**
 * Supervised processes end to end: a control center, agents as real processes on test hosts, and a
 * real HTTP app under each agent's supervisor — declared on a node, registered in discovery once
 * healthy, restarted after kill -9, adopted again by a restarted agent, restarted machine by
 * machine, and stopped drained.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canMakeTestHosts, mkNodes, testBackends, type TestHosts, type TestServer } from '@canopy/server/testing';
import { startFleet, until, type Fleet, type RunningAgent } from '../testing.ts';

const noHosts = canMakeTestHosts();
const CANOPY = join(import.meta.dirname, '../../../../node_modules/.bin/canopy');

/** Run the `canopy` command; never throws. */
async function canopy(url: string, token: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(CANOPY, args, { env: { ...process.env, CANOPY_URL: url, CANOPY_TOKEN: token, HOME: '/nonexistent' } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
const PORT = 18080;
const dir = mkdtempSync(join(tmpdir(), 'proc-fleet-'));
chmodSync(dir, 0o755);
const APP = join(dir, 'app.mjs');
// Serves :PORT (500 while $SICK_FILE exists) and logs each request.
writeFileSync(APP, `
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
process.on('SIGTERM', () => { console.log('bye'); process.exit(0); });
createServer((req, res) => { console.log('GET', req.url); res.statusCode = process.env.SICK_FILE && existsSync(process.env.SICK_FILE) ? 500 : 200; res.end('ok'); })
  .listen(Number(process.env.PORT), '0.0.0.0', () => console.log('listening', process.env.PORT));
`);

/** Alive and not a zombie. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

// The app file serves every backend's suite: removed once they all ran.
after(() => rmSync(dir, { recursive: true, force: true }));

for (const backend of testBackends()) {
  describe(`supervised processes on test hosts (${backend.name})`, { skip: noHosts && `test hosts unavailable: ${noHosts}` }, () => {
    let s: TestServer;
    let hosts: TestHosts;
    let agents: RunningAgent[] = [];
    let fleet: Fleet | undefined;
    const procs = async (path: string) => (await s.call('GET', `/api/v1/nodes/${path}/processes`)).body.items as any[];
    const row = async (path: string, host: string) => (await procs(path)).find((p) => p.hostname === host);
    const instances = async (path: string) => ((await s.call('GET', `/api/v1/services/${path}/instances`)).body.instances ?? []) as { hostname: string; status: string }[];
    const wait = (what: string, check: () => Promise<boolean>, path = 'corp.procs') =>
      until(what, check, 60_000).catch(async (err) => {
        const logs = agents.map((a) => `--- ${a.host.hostname}\n${a.log.slice(-15).join('\n')}`).join('\n');
        throw new Error(`${(err as Error).message}: ${JSON.stringify(await procs(path).catch(() => []), null, 1)}\n${logs}`);
      });
    const spec = (over: Record<string, unknown> = {}) => ({
      argv: [process.execPath, APP],
      env: { PORT: String(PORT), SICK_FILE: join(dir, 'sick') },
      ports: [{ port: PORT, name: 'http' }],
      health: { type: 'http', port: PORT, path: '/health', intervalSeconds: 0.2, unhealthyThreshold: 2 },
      drainSeconds: 0.5,
      restart: { backoffSeconds: 0.2 },
      ...over,
    });

    before(async () => {
      fleet = await startFleet({ backend, count: 2, name: `procs-${backend.name}`, server: { agents: { heartbeatMs: 500 } } });
      ({ s, hosts, agents } = fleet);
      await mkNodes(s, 'corp.procs');
      await mkNodes(s, 'corp.flap');
      for (const h of hosts.hosts) {
        for (const n of ['corp.procs', 'corp.flap']) assert.ok((await s.call('PUT', `/api/v1/nodes/${n}/machines/${h.hostname}`)).status < 300);
      }
      const svc = await s.call('PUT', '/api/v1/services/corp.procs', { ports: [{ name: 'http', port: PORT }] });
      assert.ok(svc.status < 300, JSON.stringify(svc.body));
    });
    after(async () => {
      try {
        const pids = (await procs('corp').catch(() => [])).map((p) => p.pid).filter((p) => p);
        await s?.call('DELETE', '/api/v1/nodes/corp.procs/process');
        await s?.call('DELETE', '/api/v1/nodes/corp.flap/process');
        await until('apps stopped', () => pids.every((p) => !running(p)), 30_000).catch(() => {
          for (const p of pids) process.kill(p, 'SIGKILL');
        });
      } finally {
        await fleet?.close();
      }
    });

    test('a declared process runs on every machine of the node, healthy, and is registered in discovery', async () => {
      const r = await s.call('PUT', '/api/v1/nodes/corp.procs/process', spec());
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.generation, 1);
      await wait('both running and healthy', async () => (await procs('corp.procs')).every((p) => p.state === 'running' && p.health === 'healthy' && p.task === 'RUNNING'));
      const list = await procs('corp.procs');
      assert.deepEqual(list.map((p) => p.hostname), hosts.hosts.map((h) => h.hostname));
      for (const p of list) assert.ok(running(p.pid), `pid ${p.pid} runs`);
      await wait('both instances up', async () => (await instances('corp.procs')).filter((i) => i.status === 'up').length === 2);
      const again = await s.call('PUT', '/api/v1/nodes/corp.procs/process', spec());
      assert.equal(again.status, 200);
      assert.equal(again.body.generation, 1, 'the same declaration again changes nothing');
    });

    test('an app killed with -9 is restarted after its backoff; the restart is counted', async () => {
      const h = hosts.hosts[0]!.hostname;
      const before = await row('corp.procs', h);
      process.kill(before.pid, 'SIGKILL');
      await wait('restarted', async () => {
        const p = await row('corp.procs', h);
        return p.restarts === 1 && p.state === 'running' && p.health === 'healthy' && p.pid !== before.pid;
      });
      const p = await row('corp.procs', h);
      assert.equal(p.lastExit.code, 137);
      assert.equal(p.taskId, before.taskId, 'a crash is the supervisor\'s business, not a new task');
      await wait('instance up again', async () => (await instances('corp.procs')).find((i) => i.hostname === h)?.status === 'up');
    });

    test('a failing health check drains the instance in discovery; passing again brings it back', async () => {
      writeFileSync(join(dir, 'sick'), '');
      try {
        await wait('unhealthy everywhere', async () => (await procs('corp.procs')).every((p) => p.health === 'unhealthy'));
        await wait('instances draining', async () => (await instances('corp.procs')).every((i) => i.status === 'draining'));
      } finally {
        rmSync(join(dir, 'sick'), { force: true });
      }
      await wait('healthy again', async () => (await instances('corp.procs')).filter((i) => i.status === 'up').length === 2);
    });

    test('kill -9 of the agent leaves the app running; the restarted agent adopts it by pid', async () => {
      const a = agents[1]!;
      const before = await row('corp.procs', a.host.hostname);
      await a.kill9();
      assert.ok(running(before.pid), 'the app outlives its agent');
      a.restart();
      await wait('agent back', async () => s.services.dispatcher.connectedHere(fleet!.creds.get(a.host.hostname)!.id));
      await wait('adopted', async () => /adopted/.test((await row('corp.procs', a.host.hostname)).message));
      assert.equal((await row('corp.procs', a.host.hostname)).health, 'healthy', 'adopted healthy: not drained while it is checked again');
      const p = await row('corp.procs', a.host.hostname);
      assert.equal(p.pid, before.pid);
      assert.equal(p.restarts, before.restarts);
      assert.equal(p.taskId, before.taskId);
      process.kill(p.pid, 'SIGKILL');
      await wait('restarted by the new agent', async () => {
        const q = await row('corp.procs', a.host.hostname);
        return q.restarts === before.restarts + 1 && q.state === 'running';
      });
    });

    test('logs: the last lines, and a live follow over the agent channel', async () => {
      const h = hosts.hosts[0]!.hostname;
      const r = await s.call('GET', `/api/v1/nodes/corp.procs/processes/logs?host=${h}&lines=3`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.match(r.body.text, /^(GET \/health\n){3}$/);
      const all = await s.call('GET', `/api/v1/nodes/corp.procs/processes/logs?host=${h}&lines=10000`);
      assert.match(all.body.text, /^listening 18080\n/);
      const res = await fetch(`${fleet!.url}/api/v1/nodes/corp.procs/processes/logs?host=${h}&lines=0&follow=true`, { headers: { authorization: `Bearer ${s.adminToken}` } });
      assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      const reader = res.body!.getReader();
      let seen = '';
      try {
        while (!/GET \/health/.test(seen)) seen += new TextDecoder().decode((await reader.read()).value);
      } finally {
        await reader.cancel();
      }
      assert.match(seen, /event: log/);
      const bad = await s.call('GET', `/api/v1/nodes/corp.procs/processes/logs?host=nope.example`);
      assert.equal(bad.status, 404);
      // The CLI's follow: prints what the app writes as it writes it; a refused follow is the API's error.
      const cli = spawn(CANOPY, ['proc', 'logs', '--under', 'corp.procs', '--host', h, '--lines', '0', '--follow'], { env: { ...process.env, CANOPY_URL: fleet!.url, CANOPY_TOKEN: s.adminToken, HOME: '/nonexistent' } });
      try {
        let out = '';
        cli.stdout.on('data', (b: Buffer) => (out += b.toString()));
        await until('canopy proc logs --follow printed a live line', () => /GET \/health\n/.test(out), 30_000);
      } finally {
        cli.kill();
      }
      const refused = await canopy(fleet!.url, s.adminToken, ['proc', 'logs', '--under', 'corp.procs', '--host', 'nope.example', '--follow']);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /nope\.example/);
    });

    test('a cut link: the agent keeps supervising, and the control center learns what happened once it is back', async () => {
      const h = hosts.hosts[0]!;
      const before = await row('corp.procs', h.hostname);
      h.setLink(false);
      try {
        process.kill(before.pid, 'SIGKILL');
        await until('restarted while cut off', () => {
          try {
            return readFileSync(join(agents[0]!.stateDir, 'supervisor', `${before.taskId}.json`), 'utf8').includes(`"restarts":${before.restarts + 1}`);
          } catch {
            return false;
          }
        }, 60_000);
      } finally {
        h.setLink(true);
      }
      await wait('the restart reported after reconnecting', async () => {
        const p = await row('corp.procs', h.hostname);
        return p.restarts === before.restarts + 1 && p.state === 'running' && p.pid !== before.pid;
      });
    });

    test('the canopy command: proc ls, logs, restart', async () => {
      const ls = await canopy(fleet!.url, s.adminToken, ['proc', 'ls', '--under', 'corp.procs']);
      assert.equal(ls.code, 0, ls.stderr);
      assert.match(ls.stdout, /NODE\s+HOST\s+STATE\s+PID\s+UPTIME\s+RESTARTS\s+HEALTH/);
      assert.match(ls.stdout, new RegExp(`corp\\.procs\\s+${hosts.hosts[1]!.hostname}\\s+running\\s+\\d+`));
      const json = await canopy(fleet!.url, s.adminToken, ['proc', 'ls', '--under', 'corp', '--json']);
      assert.equal(JSON.parse(json.stdout).length, 2);
      const logs = await canopy(fleet!.url, s.adminToken, ['proc', 'logs', '--under', 'corp.procs', '--host', hosts.hosts[1]!.hostname, '--lines', '2']);
      assert.equal(logs.code, 0, logs.stderr);
      assert.match(logs.stdout, /^GET \/health\nGET \/health\n$/);
      const bad = await canopy(fleet!.url, s.adminToken, ['proc', 'restart', '--under', 'corp.nothing']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /error: /);
    });

    test('a restart replaces every machine\'s process one machine at a time, with new tasks', async () => {
      const before = await procs('corp.procs');
      const r = await s.call('POST', '/api/v1/nodes/corp.procs/processes/restart');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.items[0].generation, 2);
      let seenServing = true;
      await wait('generation 2 everywhere', async () => {
        const up = (await instances('corp.procs')).filter((i) => i.status === 'up').length;
        if (up === 0) seenServing = false;
        return (await procs('corp.procs')).every((p) => p.generation === 2 && p.state === 'running' && p.health === 'healthy');
      });
      assert.ok(seenServing, 'one machine at a time: some instance was up at every look');
      const after = await procs('corp.procs');
      for (const [i, p] of after.entries()) {
        assert.notEqual(p.taskId, before[i].taskId);
        assert.notEqual(p.pid, before[i].pid);
        assert.equal(running(before[i].pid), false);
      }
    });

    test('more than 5 restarts in a minute is flapping: marked, not restarted again', async () => {
      const r = await s.call('PUT', '/api/v1/nodes/corp.flap/process', { argv: ['/bin/sh', '-c', 'echo boom >&2; exit 2'], restart: { backoffSeconds: 0.05 } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      await wait('flapping on both', async () => (await procs('corp.flap')).every((p) => p.flapping && p.state === 'flapping'), 'corp.flap');
      for (const p of await procs('corp.flap')) {
        assert.equal(p.restarts, 5);
        assert.equal(p.lastExit.code, 2);
        assert.match(p.message, /flapping/);
      }
    });

    test('stop drains every instance, then stops the apps and ends the tasks SHUTDOWN', async () => {
      const pids = (await procs('corp.procs')).map((p) => p.pid);
      const r = await s.call('POST', '/api/v1/nodes/corp/processes/stop');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.items.map((d: { node: string; desired: string }) => [d.node, d.desired]), [['corp.flap', 'stopped'], ['corp.procs', 'stopped']]);
      await wait('stopped', async () => (await procs('corp.procs')).every((p) => p.state === 'stopped' && p.task === 'SHUTDOWN'));
      assert.ok(pids.every((p) => !running(p)));
      assert.ok((await instances('corp.procs')).every((i) => i.status === 'draining'));
      const start = await s.call('POST', '/api/v1/nodes/corp.procs/processes/start');
      assert.equal(start.body.items[0].generation, 3);
      await wait('running again', async () => (await procs('corp.procs')).every((p) => p.state === 'running' && p.generation === 3 && p.health === 'healthy'));
    });
  });
}
