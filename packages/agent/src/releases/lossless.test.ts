/**
 * Acceptance: deployments lose no request. A service on four test hosts, supervised by their
 * agents, behind a real nginx on a fifth host whose agent applies the configs Canopy generates from
 * discovery; a steady keep-alive load through nginx for the whole file. A rolling deployment, a
 * restart of every process and a rollback each finish with no failed request: every process is
 * drained in discovery (nginx marks it down) before it stops, and comes back only once healthy.
 * The request count and rate are printed; the rate is not asserted (timings belong in bench/).
 * Last, a version that fails some of its answers (its health check passes) is rolled back by the
 * monitor window's SLO check, from the edge agent's counts of nginx's access log.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from 'tar';
import { canMakeTestHosts, mkNodes, testBackends, type TestHost, type TestHosts, type TestServer } from '@canopy/server/testing';
import { startLoad, type Load } from '../load.test-util.ts';
import { NGINX, nginxAgentArgs, startNginx, stopProc, type TestNginx } from '../nginx.test-util.ts';
import { startFleet, until, type Fleet } from '../testing.ts';

const noHosts = canMakeTestHosts();
const skip = noHosts ? `test hosts unavailable: ${noHosts}` : NGINX ? false : 'nginx not installed: apt-get install nginx-light';
if (skip) console.error(`\n!!! SKIPPING lossless deployment acceptance: ${skip}\n`);
const [backend] = testBackends();
const PORT = 8080;
const APP_PORT = 8000;
const DOMAIN = 'shop.test';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Answers "<version> <its address>"; on SIGTERM stops accepting, finishes what it holds, exits. With
 * `failEvery` n, every nth answer through nginx (X-Real-IP set) is a 500; health checks still pass.
 */
const server = (failEvery = 0) => `
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
const version = readFileSync('VERSION', 'utf8').trim();
let n = 0;
const server = createServer((req, res) => {
  if (${failEvery} > 0 && req.headers['x-real-ip'] && n++ % ${failEvery} === 0) res.statusCode = 500;
  res.end(version + ' ' + req.socket.localAddress);
}).listen(Number(process.env.PORT), '0.0.0.0');
process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeIdleConnections(); });
`;

describe('deployments lose no request behind nginx', { skip, timeout: 900_000 }, () => {
  let fleet: Fleet | undefined;
  let s: TestServer;
  let hosts: TestHosts;
  let edge: TestHost;
  let webs: TestHost[];
  let nginx: TestNginx | undefined;
  let load: Load | undefined;
  let work: string;
  let t0 = 0;

  const detail = async (id: number) => (await s.call('GET', `/api/v1/deployments/${id}`)).body as { state: string; reason: string | null; rolledBackBy: number | null; hosts: { state: string }[] };
  const succeeded = (id: number) =>
    until(`deployment #${id} succeeded`, async () => {
      const d = await detail(id);
      if (d.state === 'paused' || d.state === 'rolled-back') throw new Error(`deployment #${id} ${d.state}: ${d.reason} ${JSON.stringify(d.hosts)}`);
      return d.state === 'succeeded';
    }, 180_000);
  /** Every web host answers the load with `version`. */
  const servedBy = (version: string) => {
    const mark = new Map(webs.map((h) => [`${version} ${h.address}`, load!.counts.get(`${version} ${h.address}`) ?? 0]));
    return until(`every host serves ${version} through nginx`, () => [...mark].every(([k, n]) => (load!.counts.get(k) ?? 0) > n + 20), 60_000);
  };
  const summary = (what: string) => {
    const secs = (Date.now() - t0) / 1000;
    console.error(`${what}: ${load!.summary()}; ${Math.round(load!.ok / secs)} req/s over ${secs.toFixed(0)} s`);
  };

  async function push(version: string, app = server()): Promise<void> {
    const src = join(work, `src-${version}`);
    mkdirSync(src);
    writeFileSync(join(src, 'server.mjs'), app);
    writeFileSync(join(src, 'VERSION'), `${version}\n`);
    const file = join(work, `${version}.tar.gz`);
    await create({ gzip: true, file, cwd: src, portable: true }, readdirSync(src));
    const body = readFileSync(file);
    const r = await s.app.inject({ method: 'PUT', url: `/api/v1/artifacts/corp.shop/${version}?sha256=${sha(body)}`, payload: body, headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/octet-stream' } });
    assert.equal(r.statusCode, 201, r.body);
  }
  const deploy = async (version: string, strategy: object = {}) => {
    const r = await s.call('POST', '/api/v1/deployments', { nodePath: 'corp.shop', version, strategy: { batch: 1, monitorSeconds: 1, ...strategy } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id as number;
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'canopy-lossless-'));
    // Host 0 is the edge: its nginx is started before its agent, which is handed it by flags.
    fleet = await startFleet({
      backend: backend!,
      count: 5,
      name: 'lossless',
      server: { agents: { heartbeatMs: 500 } },
      agent: (h, i) => (i === 0 ? { args: nginxAgentArgs(nginx!) } : {}),
      beforeAgents: async (hs) => {
        nginx = await startNginx(hs.hosts[0]!);
      },
    });
    ({ s, hosts } = fleet);
    [edge, ...webs] = hosts.hosts as [TestHost, ...TestHost[]];
    await mkNodes(s, 'corp.edge');
    await mkNodes(s, 'corp.shop');
    assert.ok((await s.call('PUT', `/api/v1/nodes/corp.edge/machines/${edge.hostname}`)).status < 300);
    for (const h of webs) assert.ok((await s.call('PUT', `/api/v1/nodes/corp.shop/machines/${h.hostname}`)).status < 300);
    assert.ok((await s.call('PUT', '/api/v1/services/corp.shop', { ports: [{ name: 'http', port: APP_PORT }] })).status < 300);
    assert.ok((await s.call('PUT', `/api/v1/domains/${DOMAIN}`, { ports: [{ port: PORT }] })).status < 300);
    assert.ok((await s.call('PUT', '/api/v1/nodes/corp.shop/nginx', { domainUris: [{ domain: DOMAIN, uri: '/' }], port: APP_PORT })).status < 300);
    assert.ok((await s.call('PUT', '/api/v1/nginx/clusters/corp.edge', { domains: [DOMAIN] })).status < 300);
    const declared = await s.call('PUT', '/api/v1/nodes/corp.shop/process', {
      argv: [process.execPath, 'server.mjs'],
      env: { PORT: String(APP_PORT) },
      ports: [{ port: APP_PORT, name: 'http' }],
      health: { type: 'http', port: APP_PORT, path: '/', intervalSeconds: 0.5 },
      // Long enough for the edge to reload without the instance; the app's own close ends it sooner.
      drainSeconds: 3,
      deployed: true,
    });
    assert.equal(declared.status, 201, JSON.stringify(declared.body));
    for (const v of ['1.0.0', '2.0.0']) await push(v);
  });
  after(async () => {
    try {
      await load?.stop();
      await s?.call('DELETE', '/api/v1/nodes/corp.shop/process');
      await until('apps stopped', async () => ((await s.call('GET', '/api/v1/nodes/corp.shop/processes')).body.items as { pid: number | null }[]).every((p) => p.pid === null), 30_000).catch(() => {});
    } finally {
      await fleet?.close();
      await stopProc(nginx?.proc);
      if (nginx) rmSync(nginx.prefix, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    }
  });

  test('the first deployment, then nginx in front of it, under load', async () => {
    await succeeded(await deploy('1.0.0'));
    await until('four instances up', async () => {
      const inst = ((await s.call('GET', '/api/v1/services/corp.shop/instances')).body.instances ?? []) as { status: string }[];
      return inst.length === 4 && inst.every((i) => i.status === 'up');
    });
    const applied = await s.call('POST', '/api/v1/nginx/clusters/corp.edge/apply', { reason: 'first' });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    await until('the edge applied it', async () => ((await s.call('GET', '/api/v1/nginx/clusters/corp.edge/machines')).body.machines as { version: number | null }[]).every((m) => m.version === applied.body.version.version), 60_000);
    load = startLoad({ host: edge.address, port: PORT, hostHeader: DOMAIN, concurrency: 8 });
    t0 = Date.now();
    await servedBy('1.0.0');
    summary('warm-up');
    assert.deepEqual(load.errors, []);
  });

  test('a rolling deployment loses no request', async () => {
    await succeeded(await deploy('2.0.0'));
    await servedBy('2.0.0');
    summary('after the rolling deployment 1.0.0 → 2.0.0');
    assert.deepEqual(load!.errors, []);
  });

  test('restarting every process loses no request', async () => {
    const before = ((await s.call('GET', '/api/v1/nodes/corp.shop/processes')).body.items as { taskId: string }[]).map((p) => p.taskId);
    const r = await s.call('POST', '/api/v1/nodes/corp.shop/processes/restart');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await until('every process replaced, running and healthy', async () => {
      const now = (await s.call('GET', '/api/v1/nodes/corp.shop/processes')).body.items as { taskId: string; task: string; state: string; health: string }[];
      return now.length === 4 && now.every((p) => !before.includes(p.taskId) && p.task === 'RUNNING' && p.state === 'running' && p.health === 'healthy');
    }, 180_000);
    await servedBy('2.0.0');
    summary('after restarting every process');
    assert.deepEqual(load!.errors, []);
  });

  test('a rollback loses no request', async () => {
    const last = (await s.call('GET', '/api/v1/deployments?node=corp.shop')).body.items[0] as { id: number; version: string };
    assert.equal(last.version, '2.0.0');
    const r = await s.call('POST', `/api/v1/deployments/${last.id}/rollback`);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await succeeded(r.body.id as number);
    await servedBy('1.0.0');
    summary('after the rollback 2.0.0 → 1.0.0');
    assert.deepEqual(load!.errors, []);
    assert.ok(load!.ok > 0);
  });

  test('a version failing one answer in four is rolled back by the SLO check of its monitor window', async () => {
    await push('3.0.0', server(4));
    const errorsBefore = load!.errors.length;
    const id = await deploy('3.0.0', { monitorSeconds: 30, failureAction: 'rollback' });
    await until(`deployment #${id} rolled back`, async () => {
      const x = await detail(id);
      if (x.state === 'succeeded' || x.state === 'paused') throw new Error(`deployment #${id} ${x.state}: ${x.reason} ${JSON.stringify(x.hosts)}`);
      return x.state === 'rolled-back' && x.rolledBackBy !== null;
    }, 180_000);
    const d = await detail(id);
    assert.match(d.reason ?? '', /^availability \d+(\.\d+)? % in the monitor window of batch 1 \(\d+ of \d+ answers failed\) is below the SLO of 99\.9 %$/);
    assert.deepEqual(d.hosts.map((h) => h.state).sort(), ['skipped', 'skipped', 'skipped', 'updated'], 'one batch switched, the others never began');
    await succeeded(d.rolledBackBy!);
    await servedBy('1.0.0');
    summary('after the SLO rollback 3.0.0 → 1.0.0');
    const since = load!.errors.slice(errorsBefore);
    assert.ok(since.length > 0, 'the failing version answered some 500s');
    assert.deepEqual(since.filter((e) => !/HTTP 500: 3\.0\.0 /.test(e)), [], 'every failure is one of the failing version\'s answers: none lost on the way back');
  });
});
