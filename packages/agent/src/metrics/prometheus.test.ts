import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canMakeTestHosts, mkNodes, testBackends, type TestServer } from '@canopy/server/testing';
import { freePort, startFleet, until, type Fleet } from '../testing.ts';

const noHosts = canMakeTestHosts();
const PROMETHEUS = '/usr/bin/prometheus';
const noPrometheus = existsSync(PROMETHEUS) ? undefined : `prometheus not installed (${PROMETHEUS}): apt-get install prometheus`;
const PORT = 9100;

for (const backend of testBackends().slice(0, 1)) {
  describe(`Prometheus mode: a real Prometheus finds the agents through Canopy (${backend.name})`, { skip: (noHosts && `test hosts unavailable: ${noHosts}`) || noPrometheus }, () => {
    let fleet: Fleet | undefined;
    let s: TestServer;
    let prom: ChildProcess | undefined;
    let promUrl = '';
    let promConfig = '';
    const dir = mkdtempSync(join(tmpdir(), 'canopy-prometheus-'));

    before(async () => {
      const promPort = await freePort('127.0.0.1');
      promUrl = `http://127.0.0.1:${promPort}`;
      fleet = await startFleet({
        backend,
        count: 2,
        name: `prom-${backend.name}`,
        // Recording rules for nodes of two machines and more, evaluated every second.
        server: { monitor: { prometheusUrl: promUrl, recording: { minMachines: 2, intervalSeconds: 1 } } },
        agent: (h) => ({ args: ['--metrics-interval-seconds', '1', '--metrics-listen', `${h.address}:${PORT}`] }),
      });
      s = fleet.s;
      await mkNodes(s, 'mp.web');
      for (const h of fleet.hosts.hosts) assert.ok((await s.call('PUT', `/api/v1/nodes/mp.web/machines/${h.hostname}`)).status < 300);
      await mkNodes(s, 'mp.small');
      const config = join(dir, 'prometheus.yml');
      // The token is the admin's here; in production a token with monitor.read on the subtree. Debian's
      // Prometheus 2.42 sends the credentials bare unless `type: Bearer` is spelled out.
      writeFileSync(config, (promConfig = `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: canopy\n    http_sd_configs:\n      - url: ${JSON.stringify(`${fleet.url}/api/v1/monitor/prometheus/targets?under=mp&port=${PORT}`)}\n        refresh_interval: 1s\n        authorization:\n          type: Bearer\n          credentials: ${JSON.stringify(s.adminToken)}\n`));
      const check = spawnSync('promtool', ['check', 'config', config], { encoding: 'utf8' });
      assert.equal(check.status, 0, check.stdout + check.stderr);
      prom = spawn(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: ['ignore', 'ignore', openSync(join(dir, 'prometheus.log'), 'w')] });
      await until('Prometheus ready', async () => (await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.ok === true, 60_000);
    });
    after(async () => {
      if (prom && prom.exitCode === null) {
        const exited = new Promise((r) => prom!.once('exit', r));
        prom.kill('SIGTERM');
        await exited;
      }
      await fleet?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('Prometheus discovers both agents with tree labels and scrapes their /metrics', async () => {
      const up = async () => {
        const r = (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent('up{canopy_paths=~".*,mp\\\\.web,.*"}')}`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
        return r.data.result;
      };
      await until('both targets up', async () => (await up()).filter((x) => x.value[1] === '1').length === 2, 60_000).catch(async (err) => {
        const sd = await s.call('GET', `/api/v1/monitor/prometheus/targets?under=mp&port=${PORT}`);
        const targets = await (await fetch(`${promUrl}/api/v1/targets`)).text();
        const log = readFileSync(join(dir, 'prometheus.log'), 'utf8').split('\n').filter((l) => /level=(warn|error)/i.test(l)).slice(-5).join('\n');
        throw new Error(`${(err as Error).message}\nSD: ${JSON.stringify(sd.body)}\nPrometheus targets: ${targets.slice(0, 3000)}\nlog: ${log}`);
      });
      assert.deepEqual((await up()).map((x) => x.metric['instance']).sort(), fleet!.hosts.hosts.map((h) => h.hostname).sort());
    });

    test('the dashboards API reads from Prometheus: a subtree aggregate, one series per machine, top-N', async () => {
      const q = (qs: string) => s.call('GET', `/api/v1/monitor/query?under=mp&from=-2m&${qs}`);
      await until('CPU rate of both machines in Prometheus', async () => {
        const r = await q('metric=instance:node_cpu_utilisation:rate1m&by=machine&step=15');
        return r.status === 200 && r.body.series.length === 2;
      }, 60_000);
      const per = await q('metric=instance:node_cpu_utilisation:rate1m&by=machine&step=15');
      assert.equal(per.body.source, 'prometheus');
      assert.deepEqual(per.body.series.map((x: { labels: { hostname: string } }) => x.labels.hostname).sort(), fleet!.hosts.hosts.map((h) => h.hostname).sort());
      const mem = await q('metric=instance:node_memory_utilisation:ratio&agg=max&step=15');
      assert.ok(mem.body.series[0].points.every(([, v]: [number, number]) => v > 0 && v < 1), JSON.stringify(mem.body));
      const one = await q(`metric=node_load1&machine=${fleet!.hosts.hosts[0]!.hostname}&step=15`);
      assert.equal(one.body.series.length, 1);
      const top = await s.call('GET', '/api/v1/monitor/top?under=mp&metric=node_memory_MemTotal_bytes&n=1&window=60');
      assert.equal(top.status, 200, JSON.stringify(top.body));
      assert.equal(top.body.items.length, 1);
      assert.ok(top.body.items[0].value > 0);
      const none = await s.call('GET', '/api/v1/monitor/query?under=mp.web&metric=node_load1&from=-2m&machine=not-there');
      assert.equal(none.status, 404);
    });

    test("recording rules keep a big node's panels as one series; a chart reads it, and the machines' series only before the rule began", async () => {
      const metric = 'instance:node_memory_utilisation:ratio';
      const q = (qs: string) => s.call('GET', `/api/v1/monitor/query?under=mp&metric=${metric}&from=-3m&step=10&${qs}`);
      await until('memory in Prometheus for two chart points before the rules are loaded', async () => ((await q('by=machine')).body.series[0]?.points.length ?? 0) >= 2, 60_000);
      const exported = await s.call('GET', '/api/v1/monitor/prometheus/recording-rules?under=mp');
      assert.equal(exported.status, 200);
      assert.match(String(exported.headers['content-type']), /yaml/);
      const rules = join(dir, 'recording.yml');
      writeFileSync(rules, String(exported.body));
      const check = spawnSync('promtool', ['check', 'rules', rules], { encoding: 'utf8' });
      assert.equal(check.status, 0, check.stdout + check.stderr);
      assert.match(check.stdout, /SUCCESS: 42 rules found/, 'mp and mp.web (two machines each): 7 panels × avg, max, p95; not mp.small (none)');
      assert.doesNotMatch(String(exported.body), /mp\.small/);

      // The operator adds the file to a running Prometheus: its series start now, the machines' earlier.
      writeFileSync(join(dir, 'prometheus.yml'), `${promConfig}rule_files: [${JSON.stringify(rules)}]\n`);
      prom!.kill('SIGHUP');
      const recorded = `canopy_node:${metric}:max{canopy_node="mp"}`;
      await until('the recorded series in Prometheus', async () => {
        const r = (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(recorded)}`)).json()) as { data: { result: unknown[] } };
        return r.data.result.length === 1;
      }, 60_000);
      type Chart = { recorded?: { series: string; since: number }; series: { points: [number, number][] }[] };
      let chart: Chart | undefined;
      await until('a chart point past the rule\'s start', async () => {
        const r = await q('agg=max');
        assert.equal(r.status, 200, JSON.stringify(r.body));
        chart = r.body as Chart;
        return chart.recorded !== undefined && (chart.series[0]?.points.at(-1)?.[0] ?? 0) >= chart.recorded.since;
      }, 60_000);
      const { recorded: from, series } = chart!;
      assert.equal(from?.series, `canopy_node:${metric}:max`, 'read from the recorded series');
      const points = series[0]!.points;
      const before = points.filter(([t]) => t < from!.since);
      const after = points.filter(([t]) => t >= from!.since);
      assert.ok(before.length >= 1 && after.length >= 1, `points from the machines' series before the rule (${before.length}) and from the rule after (${after.length})`);
      assert.ok(points.every(([t], i) => i === 0 || t - points[i - 1]![0] === 10_000), 'one grid, no gap and no point twice');
      // The recorded values are the aggregate itself, evaluated within a second of each point.
      const direct = new URLSearchParams({ query: `max(1 - max by (instance) (node_memory_MemAvailable_bytes{canopy_paths=~".*,mp(\\\\.[^,]*)?,.*"}) / max by (instance) (node_memory_MemTotal_bytes{canopy_paths=~".*,mp(\\\\.[^,]*)?,.*"}))`, start: String(after[0]![0] / 1000), end: String(after.at(-1)![0] / 1000), step: '10' });
      const raw = (await (await fetch(`${promUrl}/api/v1/query_range?${direct}`)).json()) as { data: { result: { values: [number, string][] }[] } };
      const byTime = new Map(raw.data.result[0]!.values.map(([t, v]) => [t * 1000, Number(v)]));
      for (const [t, v] of after) assert.ok(Math.abs(v - byTime.get(t)!) < 0.02, `at ${t}: recorded ${v}, computed ${byTime.get(t)}`);

      const perMachine = await q('agg=max&by=machine');
      assert.equal(perMachine.body.recorded, undefined, 'a series per machine is not recorded');
      const small = await s.call('GET', `/api/v1/monitor/query?under=mp.web&metric=${metric}&from=-3m&step=10&agg=min`);
      assert.equal(small.body.recorded, undefined, 'min is not a dashboard aggregation');
    });
  });
}
