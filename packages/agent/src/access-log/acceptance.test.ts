/**
 * Acceptance of availability and automatic ejection with real programs: a real nginx on test host 0,
 * managed by its agent, in front of three backends on hosts 1–3. Traffic the test sends itself and
 * counts. The agent is killed with -9 mid-traffic and started again, the log rotated (rename, then
 * nginx reopens on USR1); one backend then answers 500 →
 * it is ejected (drained in discovery, nginx stops sending to it) within 20 s, availability
 * recovers; it answers again → it returns once its ejection time ended and takes traffic again.
 * An alert rule on `canopy_backend_ejected` notifies the ejection and the return, naming the
 * machine. Canopy's counts equal the requests sent, per service and per backend, exactly.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { canMakeTestHosts, createTestHosts, mkNodes, startReceiver, startTestServer, testBackends, type Receiver, type TestHost, type TestHosts, type TestServer } from '@canopy/server/testing';
import { enrollHosts, startAgent, until, type RunningAgent } from '../testing.ts';
import { NGINX, nginxAgentArgs, noOldWorkers, startNginx, stopProc, type TestNginx } from '../nginx.test-util.ts';

const noHosts = canMakeTestHosts();
const skip = noHosts ? `test hosts unavailable: ${noHosts}` : NGINX ? false : 'nginx not installed: apt-get install nginx-light';
if (skip) console.error(`\n!!! SKIPPING availability acceptance: ${skip}\n`);

const PORT = 8080;
const BACKEND_PORT = 8000;
const CLUSTER = 'avx.edge';
const SERVICE = 'avx.shop.web';
const DOMAIN = 'shop.test';

/** A backend answering its hostname, or 500 after `fail` on stdin until `ok`; counts what it got. */
function startBackend(host: TestHost) {
  const script = `let fail = false; process.stdin.on('data', (d) => { for (const w of String(d).split('\\n')) { if (w === 'fail') fail = true; if (w === 'ok') fail = false; if (w) process.stdout.write('mode ' + w + '\\n'); } });
require('node:http').createServer((q, s) => { const code = fail ? 500 : 200; process.stdout.write('req ' + code + '\\n'); s.statusCode = code; s.end(${JSON.stringify(host.hostname)}); }).listen(${BACKEND_PORT}, ${JSON.stringify(host.address)}, () => process.stdout.write('listening\\n'));`;
  const proc = host.spawn([process.execPath, '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const got = { 200: 0, 500: 0, listening: false, mode: '' };
  proc.stdout?.on('data', (d: Buffer) => {
    for (const m of String(d).matchAll(/^(req (\d+)|listening|mode (\w+))$/gm)) {
      if (m[2] === '200') got[200]++;
      else if (m[2] === '500') got[500]++;
      else if (m[3]) got.mode = m[3];
      else got.listening = true;
    }
  });
  return {
    proc,
    got,
    async set(mode: 'fail' | 'ok') {
      proc.stdin?.write(`${mode}\n`);
      await until(`backend ${host.hostname} in mode ${mode}`, () => got.mode === mode, 10_000);
    },
  };
}


/** One GET on a fresh connection; the status and body, or undefined when nothing was answered. */
function get(host: string): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = request({ host, port: PORT, path: '/', headers: { host: DOMAIN, connection: 'close' }, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** The test's own traffic: every answer counted by status and by backend. */
function traffic(host: string) {
  const sent = { total: 0, byStatus: new Map<number, number>(), byBody: new Map<string, number>(), unanswered: 0, okSinceMark: 0, failSinceMark: 0 };
  let running = false;
  let loops: Promise<void>[] = [];
  const one = async () => {
    const r = await get(host);
    if (!r) return void sent.unanswered++;
    sent.total++;
    sent.byStatus.set(r.status, (sent.byStatus.get(r.status) ?? 0) + 1);
    sent.byBody.set(r.body, (sent.byBody.get(r.body) ?? 0) + 1);
    if (r.status === 200) sent.okSinceMark++;
    else sent.failSinceMark++;
  };
  return {
    sent,
    async burst(n: number) {
      for (let i = 0; i < n; i += 3) await Promise.all([one(), one(), one()].slice(0, Math.min(3, n - i)));
    },
    start() {
      running = true;
      loops = [0, 1, 2].map(async () => {
        while (running) await one();
      });
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
    mark() {
      sent.okSinceMark = 0;
      sent.failSinceMark = 0;
    },
  };
}

for (const backend of testBackends().slice(0, 1)) describe(`availability and ejection with a real nginx (${backend.name})`, { skip, timeout: 600_000 }, () => {
  let s: TestServer;
  let hosts: TestHosts;
  const agents: RunningAgent[] = [];
  let nginx: TestNginx | undefined;
  let hook: Receiver | undefined;
  const backends: ReturnType<typeof startBackend>[] = [];
  let load: ReturnType<typeof traffic>;

  const view = async (window = '1h') => {
    const r = await s.call('GET', `/api/v1/monitor/availability/services/${SERVICE}?window=${window}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  const machinesAt = async () => (await s.call('GET', `/api/v1/nginx/clusters/${CLUSTER}/machines`)).body;
  const configCurrent = () => until('nginx runs the newest version', async () => {
    const m = await machinesAt();
    return m.machines.every((x: { version: number | null }) => x.version === m.latest);
  }, 60_000);
  const edgeAddr = () => hosts.hosts[0]!.address;
  /** The notices the rule on `canopy_backend_ejected` sent, of one kind. */
  const notices = (kind: 'firing' | 'resolved') =>
    (hook?.at('/ops') ?? []).map((r) => r.body as { kind: string; rule: string; count: number; alerts: { machine: string; labels: Record<string, string> }[] }).filter((b) => b.kind === kind);
  /** Whether nginx's live upstream file marks the backend on `host` down. */
  const markedDown = (host: TestHost) => {
    const file = join(nginx!.includeDir, '10-canopy-upstreams.conf');
    const line = existsSync(file) ? readFileSync(file, 'utf8').split('\n').find((l) => l.includes(`server ${host.address}:${BACKEND_PORT}`)) : undefined;
    return line?.includes(' down') ?? false;
  };

  before(async () => {
    hosts = createTestHosts(4, `avx-${backend.name}`);
    const [edge, ...webs] = hosts.hosts as [TestHost, TestHost, TestHost, TestHost];
    s = await startTestServer(backend, { agents: { heartbeatMs: 500 }, alerts: { tickMs: 500, groupWindowMs: 200 } });
    await s.app.listen({ host: hosts.gateway, port: 0 });
    const url = `http://${hosts.gateway}:${(s.app.server.address() as { port: number }).port}`;
    const creds = await enrollHosts(s, hosts.hosts);
    nginx = await startNginx(edge);
    for (const w of webs) backends.push(startBackend(w));
    await until('backends listening', () => backends.every((b) => b.got.listening), 10_000);
    for (const [i, h] of hosts.hosts.entries()) {
      const args = i === 0 ? [...nginxAgentArgs(nginx), '--access-log-dir', nginx.prefix] : [];
      agents[i] = startAgent(h, url, creds.get(h.hostname)!.token, undefined, { args });
    }
    await mkNodes(s, CLUSTER);
    await mkNodes(s, SERVICE);
    assert.ok((await s.call('PUT', `/api/v1/nodes/${CLUSTER}/machines/${edge.hostname}`)).status < 300);
    for (const w of webs) assert.ok((await s.call('PUT', `/api/v1/nodes/${SERVICE}/machines/${w.hostname}`)).status < 300);
    assert.ok((await s.call('PUT', `/api/v1/services/${SERVICE}`, { ports: [{ name: 'http', port: BACKEND_PORT }] })).status < 300);
    for (const w of webs) assert.ok((await s.call('PUT', `/api/v1/services/${SERVICE}/instances/${w.hostname}/${BACKEND_PORT}`, {})).status < 300);
    assert.ok((await s.call('PUT', `/api/v1/domains/${DOMAIN}`, { ports: [{ port: PORT }] })).status < 300);
    assert.ok((await s.call('PUT', `/api/v1/nodes/${SERVICE}/nginx`, { domainUris: [{ domain: DOMAIN, uri: '/' }], port: BACKEND_PORT })).status < 300);
    assert.ok((await s.call('PUT', `/api/v1/nginx/clusters/${CLUSTER}`, { domains: [DOMAIN] })).status < 300);
    // The default ejection (30 s, Envoy's base): the backend stays out while the next test's steps run, even on a loaded machine.
    const set = await s.call('PUT', `/api/v1/monitor/availability/services/${SERVICE}/settings`, { slo: { target: 0.999 } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    hook = await startReceiver();
    assert.equal((await s.call('PUT', '/api/v1/nodes/avx/alert-receivers/ops', { format: 'json', url: `${hook.url}/ops` })).status, 200);
    const rule = { conditions: [{ metric: 'canopy_backend_ejected', fn: 'all(#1)', op: '>', threshold: 0 }], summary: 'ejected from its service', receivers: ['ops'] };
    assert.equal((await s.call('PUT', '/api/v1/nodes/avx/alert-rules/backend-ejected', rule)).status, 200);
    await until('agents connected', () => hosts.hosts.every((h) => s.services.dispatcher.connectedHere(creds.get(h.hostname)!.id)), 120_000);
    assert.equal((await s.call('POST', `/api/v1/nginx/clusters/${CLUSTER}/apply`, { reason: 'availability acceptance' })).status, 200);
    await configCurrent();
    const logFile = join(nginx.prefix, `${DOMAIN}_access.log`);
    await until('nginx opened its access log', () => existsSync(logFile), 30_000);
    // Once a window that began after the log existed has arrived, the agent is reading it.
    const since = Date.now();
    await until('the agent reads the access log', async () => {
      const src = (await s.call('GET', '/api/v1/monitor/availability/sources')).body.items as { hostname: string; lastFrom: string }[];
      return src.some((x) => x.hostname === edge.hostname && Date.parse(x.lastFrom) >= since);
    }, 60_000);
    load = traffic(edgeAddr());
  });

  after(async () => {
    await load?.stop();
    for (const a of agents) await a?.stop();
    if (nginx) {
      await stopProc(nginx.proc);
      rmSync(nginx.prefix, { recursive: true, force: true });
    }
    for (const b of backends) await stopProc(b.proc);
    await hook?.close();
    await s?.close();
    hosts?.close();
  });

  test('traffic is counted across a kill -9 of the agent and a log rotation, neither lost nor counted twice', async () => {
    await load.burst(150);
    await agents[0]!.kill9();
    await load.burst(60); // logged while the agent is down
    agents[0]!.restart();
    await load.burst(90);
    // logrotate's way: rename the log, keep writing to it until nginx reopens (USR1), then the new file.
    const log = join(nginx!.prefix, `${DOMAIN}_access.log`);
    renameSync(log, `${log}.1`);
    await load.burst(30);
    process.kill(Number(readFileSync(nginx!.pidFile, 'utf8').trim()), 'SIGUSR1');
    await until('nginx reopened its access log', () => existsSync(log), 10_000);
    await load.burst(30);
    assert.equal(load.sent.total, 360);
    assert.equal(load.sent.byStatus.get(200), 360);
    await until('Canopy counted every request', async () => (await view()).total >= 360, 60_000);
    const v = await view();
    assert.deepEqual([v.total, v.failed, v.availability], [360, 0, 1]);
  });

  test('a backend answering 500 is ejected within 20 s and availability recovers', async () => {
    const bad = backends[2]!;
    const badHost = hosts.hosts[3]!.hostname;
    await bad.set('fail');
    const t0 = Date.now();
    load.start();
    const instanceStatus = async () => (await s.call('GET', `/api/v1/services/${SERVICE}/instances/${badHost}/${BACKEND_PORT}`)).body.status as string;
    await until('the failing backend is ejected and drained in discovery', async () => (await view('5m')).backends.some((b: { hostname: string; ejected: boolean }) => b.hostname === badHost && b.ejected) && (await instanceStatus()) === 'draining', 20_000);
    console.error(`ejected and drained ${Date.now() - t0} ms after the backend began answering 500`);
    await until('nginx marks the ejected backend down', () => markedDown(hosts.hosts[3]!), 60_000);
    await configCurrent();
    // Connections nginx accepted before the reload are answered under the previous upstreams.
    await until('nginx workers of the previous configuration finished', () => noOldWorkers(nginx!), 30_000);
    // The backend's last answers may still be on their way through its stdout pipe: count once it is quiet.
    let seen = -1;
    await until('the ejected backend quiet', async () => {
      const n = bad.got[500];
      await new Promise((r) => setTimeout(r, 300));
      return (seen = n) === bad.got[500];
    }, 10_000);
    const before500 = seen;
    load.mark();
    await until('traffic flows without errors after the ejection', () => load.sent.okSinceMark >= 200, 60_000);
    assert.equal(bad.got[500], before500, 'the ejected backend gets no traffic');
    assert.equal(load.sent.failSinceMark, 0, 'no 500 once nginx dropped the ejected backend');
    const audit = await s.call('GET', `/api/v1/audit?under=${SERVICE}&operation=availability.eject`);
    assert.equal(audit.body.items.length, 1);
    await until('the ejection notified', () => notices('firing').length > 0, 20_000);
    const [n] = notices('firing');
    assert.deepEqual([n!.rule, n!.count, n!.alerts.map((a) => [a.machine, a.labels['service']])], ['backend-ejected', 1, [[badHost, SERVICE]]]);
  });

  test('once it answers again it returns after its ejection time and takes traffic', async () => {
    const bad = backends[2]!;
    const badHost = hosts.hosts[3]!.hostname;
    await bad.set('ok');
    await until('the backend returned', async () => (await s.call('GET', `/api/v1/services/${SERVICE}/instances/${badHost}/${BACKEND_PORT}`)).body.status === 'up', 60_000);
    await until('nginx takes the backend back', () => !markedDown(hosts.hosts[3]!), 60_000);
    await until('the return notified', () => notices('resolved').some((n) => n.alerts.some((a) => a.machine === badHost)), 20_000);
    assert.equal(notices('firing').length, 1, 'one ejection, one notice');
    await configCurrent();
    const okBefore = bad.got[200];
    await until('the returned backend serves again', () => bad.got[200] > okBefore + 20, 30_000);
    await until('availability is back to 100 % over the last 30 s', async () => (await view('30s')).availability === 1, 90_000);
    await load.stop();
    const ej = await s.call('GET', `/api/v1/monitor/availability/services/${SERVICE}/ejections`);
    assert.ok(ej.body.items[0].returnedAt);
  });

  test('the counts Canopy shows equal the requests sent, per service and per backend', async () => {
    const sent = load.sent;
    await until('Canopy counted every request', async () => (await view()).total >= sent.total, 60_000);
    const v = await view();
    const failed = [...sent.byStatus].filter(([code]) => code >= 500).reduce((a, [, n]) => a + n, 0);
    assert.deepEqual([v.total, v.failed], [sent.total, failed], `sent ${JSON.stringify([...sent.byStatus])}, ${sent.unanswered} unanswered`);
    const got = Object.fromEntries(v.backends.map((b: { hostname: string; total: number; failed: number }) => [b.hostname, [b.total, b.failed]]));
    const want = Object.fromEntries(backends.map((b, i) => [hosts.hosts[i + 1]!.hostname, [b.got[200] + b.got[500], b.got[500]]]));
    assert.deepEqual(got, want);
    console.error(`sent ${sent.total} (${JSON.stringify([...sent.byStatus])}); Canopy: ${v.total} requests, availability ${v.availability}, p50 ${v.p50Ms} ms, p99 ${v.p99Ms} ms`);
  });
});
