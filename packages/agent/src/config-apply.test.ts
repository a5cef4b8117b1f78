/**
 * Acceptance of config push: two real nginx machines (hosts 0 and 3), each managed by its agent, in
 * front of two backends (hosts 1 and 2) registered in discovery, under a steady keep-alive load
 * from the root namespace. Each published version goes to host 0 first, then to host 3; draining a
 * backend stops new requests to it within 2 s; removing and re-adding one loses no request; a
 * version host 0’s own nginx -t refuses stops the rollout there with the previous files still live.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import { readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { canMakeTestHosts, createTestHosts, mkNodes, startTestServer, testBackends, type TestHost, type TestHosts, type TestServer } from '@canopy/server/testing';
import { enrollHosts, startAgent, until, type RunningAgent } from './testing.ts';
import { startLoad, type Load } from './load.test-util.ts';
import { NGINX, nginxAgentArgs, startNginx, stopProc, type TestNginx } from './nginx.test-util.ts';

const noHosts = canMakeTestHosts();
const skip = noHosts ? `test hosts unavailable: ${noHosts}` : NGINX ? false : 'nginx not installed: apt-get install nginx-light';
if (skip) console.error(`\n!!! SKIPPING config push acceptance: ${skip}\n`);

const CANOPY = join(import.meta.dirname, '../../../node_modules/.bin/canopy');
const PORT = 8080;
const BACKEND_PORT = 8000;
const CLUSTER = 'cfg.edge';
const SERVICE = 'cfg.shop.web';

/** A backend on `host`: answers its hostname, prints `req <epoch ms>` for each request it gets. */
function startBackend(host: TestHost): { proc: ChildProcess; arrivals: number[] } {
  const script = `require('node:http').createServer((q, s) => { process.stdout.write('req ' + Date.now() + '\\n'); s.end(${JSON.stringify(host.hostname)}); }).listen(${BACKEND_PORT}, ${JSON.stringify(host.address)}, () => process.stdout.write('listening\\n'));`;
  const proc = host.spawn([process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const arrivals: number[] = [];
  proc.stdout?.on('data', (d: Buffer) => {
    for (const m of String(d).matchAll(/^req (\d+)$/gm)) arrivals.push(Number(m[1]));
  });
  return { proc, arrivals };
}


for (const backend of testBackends()) describe(`nginx configs pushed to machines by their agents (${backend.name})`, { skip, timeout: 600_000 }, () => {
  let s: TestServer;
  let hosts: TestHosts;
  const agents: RunningAgent[] = [];
  const nginx: TestNginx[] = [];
  const backends: ReturnType<typeof startBackend>[] = [];
  let load: Load | undefined;

  const machines = async () => {
    const r = await s.call('GET', `/api/v1/nginx/clusters/${CLUSTER}/machines`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  const allAt = (version: number) =>
    until(`every machine at v${version}`, async () => (await machines()).machines.every((m: { version: number | null }) => m.version === version), 60_000).catch(async (err) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(await machines())}\n${agents.map((a) => a.log.slice(-10).join('\n')).join('\n')}`);
    });
  const latest = async () => (await machines()).latest as number;
  const configTasks = async () => {
    const r = await s.database.db.execute(sql`SELECT t.id, m.hostname, t.spec->>'version' AS version, t.state, t.error, t.created_at, t.finished_at
      FROM tasks t JOIN machines m ON m.id = t.machine_id WHERE t.owner_kind = 'nginx-config' ORDER BY t.created_at`);
    return (r as unknown as { rows: { id: string; hostname: string; version: string; state: number; error: string | null; created_at: string; finished_at: string | null }[] }).rows;
  };
  const instance = (host: TestHost, body: object | null) =>
    s.call(body === null ? 'DELETE' : 'PUT', `/api/v1/services/${SERVICE}/instances/${host.hostname}/${BACKEND_PORT}`, body ?? undefined);

  before(async () => {
    hosts = createTestHosts(4, `cfg-${backend.name}`);
    const [edgeA, web1, web2, edgeB] = hosts.hosts as [TestHost, TestHost, TestHost, TestHost];
    s = await startTestServer(backend, { agents: { heartbeatMs: 500 } });
    await s.app.listen({ host: hosts.gateway, port: 0 });
    const url = `http://${hosts.gateway}:${(s.app.server.address() as { port: number }).port}`;
    const creds = await enrollHosts(s, hosts.hosts);
    // Host 0 has a machine-local upstream that a later version collides with; host 3 has none.
    nginx.push(await startNginx(edgeA, '  upstream legacy_pool { server 127.0.0.1:9; }'));
    nginx.push(await startNginx(edgeB, ''));
    for (const b of [web1, web2]) backends.push(startBackend(b));
    for (const [i, h] of hosts.hosts.entries()) {
      const n = h === edgeA ? nginx[0] : h === edgeB ? nginx[1] : undefined;
      const args = n ? nginxAgentArgs(n) : [];
      agents[i] = startAgent(h, url, creds.get(h.hostname)!.token, undefined, { args });
    }
    await mkNodes(s, CLUSTER);
    await mkNodes(s, SERVICE);
    for (const h of [edgeA, edgeB]) assert.ok((await s.call('PUT', `/api/v1/nodes/${CLUSTER}/machines/${h.hostname}`)).status < 300);
    for (const h of [web1, web2]) assert.ok((await s.call('PUT', `/api/v1/nodes/${SERVICE}/machines/${h.hostname}`)).status < 300);
    assert.ok((await s.call('PUT', `/api/v1/services/${SERVICE}`, { ports: [{ name: 'http', port: BACKEND_PORT }] })).status < 300);
    for (const h of [web1, web2]) assert.ok((await instance(h, {})).status < 300);
    assert.ok((await s.call('PUT', '/api/v1/domains/shop.test', { ports: [{ port: PORT }] })).status < 300);
    assert.ok((await s.call('PUT', `/api/v1/nodes/${SERVICE}/nginx`, { domainUris: [{ domain: 'shop.test', uri: '/' }], port: BACKEND_PORT })).status < 300);
    assert.ok((await s.call('PUT', `/api/v1/nginx/clusters/${CLUSTER}`, { domains: ['shop.test'] })).status < 300);
    await until('agents connected', () => hosts.hosts.every((h) => s.services.dispatcher.connectedHere(creds.get(h.hostname)!.id)), 120_000);
  });

  after(async () => {
    await load?.stop();
    for (const a of agents) await a?.stop();
    for (const n of nginx) {
      await stopProc(n.proc);
      rmSync(n.prefix, { recursive: true, force: true });
    }
    for (const b of backends) await stopProc(b.proc);
    await s?.close();
    hosts?.close();
  });

  test('a published version goes to one machine first, then the rest; nginx serves it', async () => {
    const applied = await s.call('POST', `/api/v1/nginx/clusters/${CLUSTER}/apply`, { reason: 'first' });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    const v = applied.body.version.version as number;
    await allAt(v);
    const tasks = (await configTasks()).filter((t) => Number(t.version) === v);
    const [edgeA, web1, web2, edgeB] = hosts.hosts.map((h) => h.hostname);
    assert.deepEqual(tasks.map((t) => t.hostname), [edgeA, edgeB], 'the canary first');
    assert.ok(Date.parse(tasks[1]!.created_at) >= Date.parse(tasks[0]!.finished_at!), 'the rest only after the canary finished');
    const view = await machines();
    assert.deepEqual(view.rollout && [view.rollout.state, view.rollout.canary], ['done', edgeA]);
    assert.ok(view.machines.every((m: { state: string; lagging: boolean }) => m.state === 'current' && !m.lagging));
    assert.deepEqual(readFileSync(join(nginx[0]!.includeDir, '10-canopy-upstreams.conf'), 'utf8').match(/server \S+/g), [`server ${hosts.hosts[1]!.address}:${BACKEND_PORT}`, `server ${hosts.hosts[2]!.address}:${BACKEND_PORT}`]);
    load = startLoad({ host: hosts.hosts[0]!.address, port: PORT, hostHeader: 'shop.test', concurrency: 4 });
    await until('both backends serve the load', () => (load!.counts.get(web1!) ?? 0) > 200 && (load!.counts.get(web2!) ?? 0) > 200, 30_000);
  });

  test('draining a backend stops new requests to it within 2 s, with no error', async () => {
    const drained = backends[1]!;
    const before = await latest();
    const t0 = Date.now();
    assert.equal((await instance(hosts.hosts[2]!, { status: 'draining' })).status, 200);
    await allAt(before + 1);
    await sleep(Math.max(0, t0 + 4000 - Date.now()));
    const late = drained.arrivals.filter((t) => t > t0 + 2000);
    assert.deepEqual(late, [], `requests reached the drained backend ${late.map((t) => t - t0).join(', ')} ms after the drain`);
    const cut = Math.max(...drained.arrivals.filter((t) => t <= t0 + 2000)) - t0;
    console.error(`drain: last request reached the drained backend ${cut} ms after the drain; load so far ${load!.summary()}`);
    assert.ok(backends[0]!.arrivals.some((t) => t > t0 + 2000), 'the other backend still serves');
    assert.deepEqual(load!.errors, []);
  });

  test('removing and re-adding a backend loses no request', async () => {
    const v = await latest();
    assert.equal((await instance(hosts.hosts[2]!, null)).status, 204);
    await allAt(v + 1);
    assert.equal((await instance(hosts.hosts[2]!, {})).status, 201);
    await allAt(v + 2);
    const t = Date.now();
    await until('the re-added backend answers', () => backends[1]!.arrivals.some((a) => a > t), 20_000);
    console.error(`remove/re-add: ${load!.summary()}`);
    assert.deepEqual(load!.errors, []);
    assert.ok(load!.ok > 0);
  });

  test('a version the first machine’s nginx -t refuses stops the rollout there; the previous files stay live', async () => {
    const good = await latest();
    const liveDir = readlinkSync(nginx[0]!.includeDir);
    await mkNodes(s, 'cfg.shop.legacy');
    assert.ok((await s.call('PUT', '/api/v1/nodes/cfg.shop.legacy/nginx', { domainUris: [{ domain: 'shop.test', uri: '/legacy' }], port: 9000, upstream: 'legacy_pool' })).status < 300);
    const applied = await s.call('POST', `/api/v1/nginx/clusters/${CLUSTER}/apply`, { reason: 'collides with host 0’s local upstream' });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    const bad = applied.body.version.version as number;
    assert.equal(bad, good + 1);
    await until('the rollout failed', async () => (await machines()).rollout?.state === 'failed', 60_000);
    const view = await machines();
    const [edgeA, edgeB] = [hosts.hosts[0]!.hostname, hosts.hosts[3]!.hostname];
    assert.equal(view.rollout.failedOn, edgeA);
    assert.match(view.rollout.error, /duplicate upstream "legacy_pool"/);
    const [a, b] = view.machines as { hostname: string; version: number; state: string; error: string | null; lagging: boolean }[];
    assert.deepEqual([a!.hostname, a!.state, a!.version, b!.hostname, b!.state, b!.version, b!.lagging], [edgeA, 'failed', good, edgeB, 'lagging', good, true]);
    assert.match(a!.error ?? '', /nginx -t refused v\d+; the previous files were put back/);
    assert.deepEqual((await configTasks()).filter((t) => Number(t.version) === bad).map((t) => t.hostname), [edgeA], 'the second machine was never given the version');
    assert.equal(readlinkSync(nginx[0]!.includeDir), liveDir, 'the previous files are back in place');
    const okBefore = load!.ok;
    await until('nginx still answers', () => load!.ok > okBefore + 20, 10_000);
    assert.deepEqual(load!.errors, []);
  });

  test('`canopy nginx status` shows what each machine runs and flags the failed and lagging ones', async () => {
    const url = `http://${hosts.gateway}:${(s.app.server.address() as { port: number }).port}`;
    const run = (args: string[]) => promisify(execFile)(CANOPY, args, { env: { ...process.env, CANOPY_URL: url, CANOPY_TOKEN: s.adminToken, HOME: '/nonexistent' } });
    const human = await run(['nginx', 'status', CLUSTER]);
    const [edgeA, edgeB] = [hosts.hosts[0]!.hostname, hosts.hosts[3]!.hostname];
    assert.match(human.stdout, new RegExp(`^${CLUSTER.replace('.', '\\.')}: v\\d+ failed \\(first: ${edgeA}\\), stopped at ${edgeA}$`, 'm'));
    assert.match(human.stdout, new RegExp(`^${edgeA} +v\\d+ +v\\d+ +FAILED +- +connected$`, 'm'));
    assert.match(human.stdout, new RegExp(`^${edgeB} +v\\d+ +v\\d+ +LAGGING +- +connected$`, 'm'));
    assert.match(human.stdout, /duplicate upstream "legacy_pool"/);
    const json = JSON.parse((await run(['nginx', 'status', CLUSTER, '--json'])).stdout);
    assert.deepEqual(json.machines.map((m: { hostname: string; state: string }) => [m.hostname, m.state]), [[edgeA, 'failed'], [edgeB, 'lagging']]);
    await assert.rejects(run(['nginx', 'status', 'bad..path']), /not a node path/);
    const lvs = JSON.parse((await run(['lvs', 'status', CLUSTER, '--json'])).stdout);
    assert.deepEqual([lvs.latest, lvs.rollout, lvs.machines.map((m: { state: string; lagging: boolean }) => [m.state, m.lagging])], [0, null, [['none', false], ['none', false]]]);
  });
});
