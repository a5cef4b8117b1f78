/**
 * Prometheus mode with the real binaries: the exported rule file passes `promtool check rules` and
 * the kept `promtool test rules` suite (testdata/promtool-suite.yml); a real Prometheus scraping a
 * loopback exporter found through Canopy's HTTP service discovery fires the exported rule, a real
 * Alertmanager delivers it to Canopy's webhook, and the alert shows and notifies as Canopy's own.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { createNodes, startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { startReceiver, until, type Receiver } from './receiver.test-util.ts';

const run = promisify(execFile);
const has = async (bin: string) => run(bin, ['--version']).then(() => true, () => false);

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const PT_RULES: [string, string, unknown][] = [
  ['pt', 'disk', { conditions: [{ metric: 'disk_used_percent', fn: 'all(#3)', op: '>', threshold: 90 }], severity: 'critical', summary: 'disk {{value}} % on {{machines}}' }],
  ['pt.db', 'disk', { conditions: [{ metric: 'disk_used_percent', fn: 'all(#3)', op: '>', threshold: 95 }], severity: 'critical', summary: 'disk {{value}} % on {{machines}} (db)' }],
  ['pt', 'load', { conditions: [{ metric: 'node_load1', fn: 'avg(#2)', op: '>', threshold: 4 }] }],
  ['pt.batch', 'load', { disabled: true }],
  ['pt', 'agent-down', { conditions: [{ metric: 'canopy_agent_up', fn: 'all(#1)', op: '==', threshold: 0 }], severity: 'critical', forSeconds: 30 }],
];

for (const backend of testBackends()) {
  describe(`alerts in Prometheus mode (${backend.name})`, () => {
    let s: TestServer;
    let dir: string;
    let hook: Receiver;
    const children: ChildProcess[] = [];
    let exporter: Server | undefined;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'canopy-alerts-prom-'));
      hook = await startReceiver();
      s = await startTestServer(backend, { alerts: { tickMs: 3_600_000, groupWindowMs: 50, prometheusStepSeconds: 1 } });
    });
    after(async () => {
      for (const c of children) if (c.exitCode === null && c.pid !== undefined) process.kill(c.pid, 'SIGTERM');
      await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
      exporter?.close();
      await s.close();
      await hook.close();
      await rm(dir, { recursive: true, force: true });
    });

    test('the exported rule file passes promtool check rules and the kept promtool test suite', async (t) => {
      if (!(await has('promtool'))) return t.skip('promtool not installed: apt-get install prometheus');
      await createNodes(s, 'pt', 'pt.web', 'pt.db', 'pt.batch');
      for (const [node, name, rule] of PT_RULES) {
        const r = await s.call('PUT', `/api/v1/nodes/${node}/alert-rules/${name}`, rule);
        assert.equal(r.status, 200, JSON.stringify(r.body));
      }
      // The suite's ranges are in 10 s scrapes: export with that step.
      const step = 10;
      const file = s.services.alerts.tree.byPath('pt')!;
      const exported = (await import('./prometheus-mode.ts')).ruleFile(s.services.alerts.service.model, s.services.alerts.tree, file, step);
      const api = await s.call('GET', '/api/v1/monitor/prometheus/rules?under=pt');
      assert.equal(api.status, 200);
      assert.match(String(api.headers['content-type']), /yaml/);
      assert.match(String(api.body), /alert: "agent-down"/);
      await writeFile(join(dir, 'rules.yml'), exported);
      const check = await run('promtool', ['check', 'rules', join(dir, 'rules.yml')]);
      assert.match(check.stdout, /SUCCESS: 4 rules found/, 'disk twice (pt and its override on pt.db), load, agent-down');
      await copyFile(join(import.meta.dirname, 'testdata/promtool-suite.yml'), join(dir, 'suite.yml'));
      const suite = await run('promtool', ['test', 'rules', join(dir, 'suite.yml')]).catch((err: { stdout?: string; stderr?: string }) => {
        throw new Error(`promtool test rules failed:\n${err.stdout ?? ''}${err.stderr ?? ''}\n--- rules.yml\n${exported}`);
      });
      assert.match(suite.stdout, /SUCCESS/);
    });

    test("Alertmanager's webhook needs a token and well-formed alerts of a node the caller may write", async () => {
      await createNodes(s, 'amx');
      const body = { status: 'firing', alerts: [{ status: 'firing', labels: { alertname: 'x', canopy_origin: 'amx', instance: 'h' }, startsAt: new Date().toISOString() }] };
      assert.equal((await s.call('POST', '/api/v1/monitor/alertmanager', body, { token: null })).status, 401);
      assert.equal((await s.call('POST', '/api/v1/monitor/alertmanager', { status: 'nope', alerts: [] })).status, 400);
      const unknown = await s.call('POST', '/api/v1/monitor/alertmanager', { ...body, alerts: [{ ...body.alerts[0], labels: { alertname: 'x', canopy_origin: 'amx.nowhere' } }] });
      assert.equal(unknown.status, 404);
      assert.equal((await s.call('GET', '/api/v1/monitor/alerts?under=amx')).body.items.length, 0, 'nothing was written');
    });

    test('an alert Alertmanager delivered repeats and escalates by the rule set at its origin', async () => {
      await createNodes(s, 'amr');
      await s.call('PUT', '/api/v1/nodes/amr/alert-receivers/ops', { format: 'json', url: `${hook.url}/amr-ops` });
      await s.call('PUT', '/api/v1/nodes/amr/alert-receivers/lead', { format: 'slack', url: `${hook.url}/amr-lead` });
      await s.call('PUT', '/api/v1/nodes/amr/alert-rules/disk', { conditions: [{ metric: 'd', fn: 'all(#1)', op: '>', threshold: 1 }], receivers: ['ops'], repeatIntervalSeconds: 60, escalation: { afterMinutes: 10, receivers: ['lead'] } });
      const alert = { status: 'firing', labels: { alertname: 'disk', canopy_rule: 'disk', canopy_origin: 'amr', instance: 'amr-1.example', severity: 'critical' }, annotations: { summary: 'disk full' }, startsAt: new Date().toISOString(), fingerprint: 'f00d' };
      const r = await s.call('POST', '/api/v1/monitor/alertmanager', { status: 'firing', alerts: [alert, alert] });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      await until('ops told', () => hook.at('/amr-ops').length === 1);
      assert.equal((await s.call('POST', '/api/v1/monitor/alertmanager', { status: 'firing', alerts: [alert] })).body.started, 0, 'a re-sent alert is the same alert');
      const [a] = (await s.call('GET', '/api/v1/monitor/alerts?under=amr')).body.items as { id: number; source: string; severity: string; summary: string }[];
      assert.deepEqual([a!.source, a!.severity, a!.summary], ['prometheus', 'critical', 'disk full']);
      await s.services.database.db.execute(sql`UPDATE alerts SET last_notified_at = now() - interval '2 minutes', fired_at = now() - interval '11 minutes' WHERE id = ${a!.id}`);
      await s.services.alerts.load();
      await s.services.alerts.evaluator.evaluate();
      await until('the escalation', () => hook.at('/amr-lead').length === 1);
      await s.services.alerts.evaluator.evaluate();
      await until('the repeat and the escalation', () => hook.at('/amr-ops').length === 2 && hook.at('/amr-lead').length === 1);
      assert.equal(hook.at('/amr-ops')[1]!.body['kind'], 'repeat');
      const done = await s.call('POST', '/api/v1/monitor/alertmanager', { status: 'resolved', alerts: [{ ...alert, status: 'resolved' }] });
      assert.equal(done.body.resolved, 1);
      await until('the recovery', () => hook.at('/amr-ops').some((x) => x.body['kind'] === 'resolved'));
    });

    test('a real Prometheus fires the exported rule, a real Alertmanager delivers it, and Canopy notifies it as its own', async (t) => {
      if (!(await has('prometheus')) || !(await has('prometheus-alertmanager'))) return t.skip('prometheus or prometheus-alertmanager not installed: apt-get install prometheus prometheus-alertmanager');
      await createNodes(s, 'pm', 'pm.web');
      let value = 50;
      exporter = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(`# TYPE disk_used_percent gauge\ndisk_used_percent{mountpoint="/"} ${value}\n`));
      await new Promise<void>((r) => exporter!.listen(0, '127.0.0.1', r));
      const exporterPort = (exporter.address() as AddressInfo).port;
      assert.equal((await s.call('POST', '/api/v1/machines', { hostname: 'pm-web-1.example', ips: ['127.0.0.1'], status: 'online', nodes: ['pm.web'] })).status, 201);
      assert.equal((await s.call('PUT', '/api/v1/nodes/pm/alert-receivers/ops', { format: 'dingtalk', url: `${hook.url}/pm`, secret: 'SEC-dingtalk' })).status, 200);
      assert.equal((await s.call('PUT', '/api/v1/nodes/pm/alert-rules/disk', { conditions: [{ metric: 'disk_used_percent', fn: 'all(#2)', op: '>', threshold: 90 }], severity: 'critical', receivers: ['ops'], summary: 'disk {{value}} %' })).status, 200);
      const tok = await s.call('POST', '/api/v1/tokens', { name: 'prometheus', expiresInDays: 1 });
      assert.equal(tok.status, 201, JSON.stringify(tok.body));
      const token = tok.body.token as string;
      await s.app.listen({ port: 0, host: '127.0.0.1' });
      const canopy = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
      const sd = await fetch(`${canopy}/api/v1/monitor/prometheus/targets?under=pm&port=${exporterPort}`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(sd.status, 200, `service discovery over HTTP: ${await sd.text()}`);
      const [promPort, amPort] = [await freePort(), await freePort()];
      await writeFile(join(dir, 'pm-rules.yml'), String((await s.call('GET', '/api/v1/monitor/prometheus/rules?under=pm')).body));
      await writeFile(join(dir, 'alertmanager.yml'), [
        'route: { receiver: canopy, group_wait: 0s, group_interval: 1s, repeat_interval: 1h }',
        'receivers:',
        '  - name: canopy',
        '    webhook_configs:',
        `      - url: ${JSON.stringify(`${canopy}/api/v1/monitor/alertmanager`)}`,
        '        send_resolved: true',
        `        http_config: { authorization: { type: Bearer, credentials: ${JSON.stringify(token)} } }`,
      ].join('\n'));
      await writeFile(join(dir, 'prometheus.yml'), [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'rule_files: [pm-rules.yml]',
        `alerting: { alertmanagers: [ { static_configs: [ { targets: ["127.0.0.1:${amPort}"] } ] } ] }`,
        'scrape_configs:',
        '  - job_name: canopy',
        '    http_sd_configs:',
        `      - url: ${JSON.stringify(`${canopy}/api/v1/monitor/prometheus/targets?under=pm&port=${exporterPort}`)}`,
        '        refresh_interval: 1s',
        `        authorization: { type: Bearer, credentials: ${JSON.stringify(token)} }`,
      ].join('\n'));
      const start = (bin: string, args: string[]) => {
        const c = spawn(bin, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
        let log = '';
        c.stderr!.on('data', (d: Buffer) => void (log = (log + d.toString()).slice(-4000)));
        children.push(c);
        return () => log;
      };
      const amLog = start('prometheus-alertmanager', [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'am')}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address=']);
      const promLog = start('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`]);
      const firing = async () => ((await s.call('GET', '/api/v1/monitor/alerts?under=pm')).body.items as { source: string; machine: string; origin: string; node: string; state: string; labels: Record<string, string> }[]);
      const diag = () => `\n--- prometheus\n${promLog()}\n--- alertmanager\n${amLog()}`;

      await until('Prometheus scrapes the exporter through Canopy SD', async () => {
        const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent('disk_used_percent{instance="pm-web-1.example"}')}`).then((x) => (x.ok ? (x.json() as Promise<{ data?: { result?: unknown[] } }>) : undefined)).catch(() => undefined);
        return (r?.data?.result?.length ?? 0) > 0;
      }, 60_000).catch((err: Error) => assert.fail(err.message + diag()));
      assert.equal((await firing()).length, 0);
      value = 97;
      await until('the alert reaches Canopy', async () => (await firing()).length === 1, 60_000).catch((err: Error) => assert.fail(err.message + diag()));
      const [a] = await firing();
      assert.deepEqual([a!.source, a!.machine, a!.origin, a!.node, a!.state, a!.labels], ['prometheus', 'pm-web-1.example', 'pm', 'pm.web', 'firing', { mountpoint: '/' }]);
      await until('the DingTalk notice', () => hook.at('/pm').length === 1);
      const n = hook.at('/pm')[0]!;
      assert.equal(n.body['msgtype'], 'markdown');
      assert.match((n.body['markdown'] as { text: string }).text, /critical disk on pm\.web: 1 machine\(s\)[\s\S]*disk 97 %[\s\S]*pm-web-1\.example/);
      assert.ok(n.query.get('sign') && n.query.get('timestamp'), 'signed with the DingTalk secret');

      value = 10;
      await until('resolved in Canopy', async () => (await firing()).length === 0, 60_000).catch((err: Error) => assert.fail(err.message + diag()));
      await until('the recovery notice', () => hook.at('/pm').some((r) => /RESOLVED/.test((r.body['markdown'] as { text: string }).text)));
      const history = (await s.call('GET', '/api/v1/monitor/alerts?under=pm&state=all')).body.items as { state: string; source: string }[];
      assert.deepEqual(history.map((h) => [h.state, h.source]), [['resolved', 'prometheus']]);
    });
  });
}
