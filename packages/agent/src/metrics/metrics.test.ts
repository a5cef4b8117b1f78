import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canMakeTestHosts, mkNodes, testBackends, type TestServer } from '@canopy/server/testing';
import { startFleet, until, type Fleet } from '../testing.ts';

const noHosts = canMakeTestHosts();
const PORT = 9100;

for (const backend of testBackends()) {
  describe(`machine metrics from real agents (${backend.name})`, { skip: noHosts && `test hosts unavailable: ${noHosts}` }, () => {
    let fleet: Fleet | undefined;
    let s: TestServer;
    const idOf = (hostname: string) => fleet!.creds.get(hostname)!.id;
    const query = async (qs: string) => {
      const r = await s.call('GET', `/api/v1/monitor/query?under=mx&${qs.includes('from=') ? '' : 'from=-10m&'}${qs}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body as { series: { labels: Record<string, string>; points: [number, number][] }[] };
    };

    before(async () => {
      fleet = await startFleet({
        backend,
        count: 2,
        name: `metrics-${backend.name}`,
        server: { agents: { heartbeatMs: 500 }, monitor: { intervalSeconds: 1 } },
        agent: (h) => ({ args: ['--metrics-interval-seconds', '1', '--metrics-listen', `${h.address}:${PORT}`] }),
      });
      s = fleet.s;
      await mkNodes(s, 'mx.web');
      for (const h of fleet.hosts.hosts) assert.ok((await s.call('PUT', `/api/v1/nodes/mx.web/machines/${h.hostname}`)).status < 300);
    });
    after(() => fleet?.close());

    test('every agent pushes its machine metrics; the subtree charts them and each serves /metrics', async () => {
      await until('CPU of both machines', async () => (await query('metric=instance:node_cpu_utilisation:rate1m&by=machine')).series.length === 2);
      const cpu = await query('metric=instance:node_cpu_utilisation:rate1m&by=machine');
      assert.deepEqual(cpu.series.map((x) => x.labels['hostname']), fleet!.hosts.hosts.map((h) => h.hostname).sort());
      for (const x of cpu.series) for (const [, v] of x.points) assert.ok(v >= 0 && v <= 1, `cpu ${v}`);
      const mem = await query('metric=instance:node_memory_utilisation:ratio&agg=max');
      assert.ok(mem.series[0]!.points.every(([, v]) => v > 0 && v < 1));
      // Each host has its own veth: its traffic counters are its namespace's, labelled by device.
      const h = fleet!.hosts.hosts[0]!;
      const text = await (await fetch(`http://${h.address}:${PORT}/metrics`)).text();
      assert.match(text, /^# TYPE node_cpu_seconds_total counter$/m);
      assert.match(text, /^node_network_receive_bytes_total\{device="lo"\} \d+/m);
      assert.match(text, /^node_tcp_connection_states\{state="listen"\} [1-9]/m);
      assert.equal((await fetch(`http://${h.address}:${PORT}/other`)).status, 404);
      const overview = await s.call('GET', '/api/v1/monitor/overview?under=mx');
      assert.equal(overview.body.byAgent.connected, 2);
      await until('both machines reporting', async () => (await s.call('GET', '/api/v1/monitor/overview?under=mx')).body.reporting === 2);
    });

    test('each supervised process is measured by its service; a kill -9 counts as a restart', async () => {
      const r = await s.call('PUT', '/api/v1/nodes/mx.web/process', { argv: ['/bin/sleep', '100000'], restart: { backoffSeconds: 0.1 } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const h = fleet!.hosts.hosts[0]!;
      const exposed = async () => (await fetch(`http://${h.address}:${PORT}/metrics`)).text();
      const value = (text: string, name: string) => Number(new RegExp(`^${name}\\{service="mx\\.web"\\} (\\S+)$`, 'm').exec(text)?.[1]);
      const mine = async () => ((await s.call('GET', '/api/v1/nodes/mx.web/processes')).body.items as { hostname: string; pid: number | null; restarts: number }[]).find((p) => p.hostname === h.hostname);
      try {
        await until('the process measured on /metrics', async () => value(await exposed(), 'canopy_process_up') === 1 && (await mine())?.pid != null);
        const text = await exposed();
        assert.ok(value(text, 'canopy_process_resident_memory_bytes') > 100_000, text);
        assert.ok(value(text, 'canopy_process_open_fds') >= 3);
        assert.ok(value(text, 'canopy_process_max_fds') >= value(text, 'canopy_process_open_fds'));
        assert.ok(value(text, 'canopy_process_cpu_seconds_total') >= 0);
        assert.equal(value(text, 'canopy_process_restarts_total'), 0);
        assert.match(text, /^# TYPE canopy_process_restarts_total counter$/m);
        process.kill((await mine())!.pid!, 'SIGKILL');
        await until('the restart counted', async () => value(await exposed(), 'canopy_process_restarts_total') === 1 && value(await exposed(), 'canopy_process_up') === 1);
        await until('both machines\' processes charted', async () => (await query('metric=canopy_process_resident_memory_bytes&match=service=mx.web&by=machine&from=-1m')).series.length === 2);
      } finally {
        await s.call('DELETE', '/api/v1/nodes/mx.web/process');
        await until('the processes stopped', async () => ((await s.call('GET', '/api/v1/nodes/mx.web/processes')).body.items ?? []).every((p: { pid: number | null }) => p.pid === null), 30_000).catch(() => {});
      }
    });

    test('a collect rule set on a node reaches the agents below it and its metric comes back', async () => {
      const r = await s.call('PUT', '/api/v1/nodes/mx/collect-rules', { rules: [{ name: 'exporter', kind: 'port', port: PORT }, { name: 'nothing', kind: 'port', port: 1 }] });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      await until('port rule results from both machines', async () => {
        const q = await query('metric=canopy_port_listening&match=rule=exporter&by=machine&from=-1m');
        return q.series.length === 2 && q.series.every((x) => x.points.at(-1)?.[1] === 1);
      });
      const closed = await query('metric=canopy_port_listening&match=rule=nothing&agg=max&from=-1m');
      assert.equal(closed.series[0]!.points.at(-1)![1], 0);
    });

    test('collections made while the link is cut arrive once it returns', async () => {
      const h = fleet!.hosts.hosts[1]!;
      const id = idOf(h.hostname);
      const state = async () => (await s.services.dispatcher.statuses([id]))[0]?.state;
      const load = () => s.services.monitor.history.machineSeries(id)?.get('node_load1');
      const cut = Date.now();
      h.setLink(false);
      let restored = 0;
      try {
        await until('unreachable', async () => (await state()) === 'unreachable', 20_000);
        await until('a few collections made offline', () => Date.now() - cut > 4_000);
      } finally {
        restored = Date.now();
        h.setLink(true);
      }
      await until('connected again', async () => (await state()) === 'connected' && s.services.dispatcher.connectedHere(id), 60_000);
      await until('the offline collections', () => (load()?.raw(cut, restored).length ?? 0) >= Math.floor((restored - cut) / 1000) - 1, 30_000);
      const pts = load()!.raw(cut, restored);
      for (let i = 1; i < pts.length; i++) assert.ok(pts[i]![0] - pts[i - 1]![0] <= 2_000, `a gap at ${new Date(pts[i]![0]).toISOString()}`);
    });
  });
}
