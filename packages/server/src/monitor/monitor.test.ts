import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NEED_DEFS } from '@canopy/core';
import { sql } from 'drizzle-orm';
import { rows } from '../db/connection.ts';
import { createServices } from '../services.ts';
import { createNodes, startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { until } from '../alerts/receiver.test-util.ts';
import { createHistory } from './history.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);

for (const backend of testBackends()) {
  describe(`monitor (${backend.name})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer(backend, { monitor: { flushSeconds: 3600 } });
    });
    after(() => s.close());

    async function machine(hostname: string, node: string, ip: string): Promise<number> {
      const r = await s.call('POST', '/api/v1/machines', { hostname, ips: [ip], status: 'online', nodes: [node] });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body.id as number;
    }
    async function userWith(username: string, role: string, nodePath: string): Promise<string> {
      assert.equal((await s.call('POST', '/api/v1/users', { username, password: `pw-of-${username}` })).status, 201);
      assert.equal((await s.call('POST', '/api/v1/grants', { user: username, role, nodePath })).status, 201);
      return s.login(username, `pw-of-${username}`);
    }
    /** Push `n` collections 10 s apart ending now, CPU busy `busy` of the time, as an agent does. */
    async function pushCpu(id: number, busy: number, n = 6) {
      const defs = ['node_cpu_seconds_total{cpu="0",mode="idle"}', 'node_cpu_seconds_total{cpu="0",mode="user"}', 'node_memory_MemTotal_bytes', 'node_memory_MemAvailable_bytes', 'node_load1'];
      // One clock for every machine, mid-bucket, so both machines' samples share each 10 s bucket.
      const end = Math.floor(Date.now() / 10_000) * 10_000 - 5_000;
      const samples = Array.from({ length: n }, (_, i) => ({ at: end - (n - 1 - i) * 10_000, v: [i * 10 * (1 - busy), i * 10 * busy, 1000, 250, busy * 2] }));
      await s.services.monitor.push(id, { gen: 1, defs, samples });
    }

    test('pushed metrics answer the query API aggregated over a subtree, per machine and as top-N', async () => {
      await createNodes(s, 'mq', 'mq.web', 'mq.db');
      const web = await machine('mq-web-1', 'mq.web', '198.18.200.1');
      const db = await machine('mq-db-1', 'mq.db', '198.18.200.2');
      await pushCpu(web, 0.2);
      await pushCpu(db, 0.8);
      const q = (qs: string) => s.call('GET', `/api/v1/monitor/query?under=mq&metric=instance:node_cpu_utilisation:rate1m&${qs}`);
      const max = await q('agg=max&from=-5m');
      assert.equal(max.status, 200, JSON.stringify(max.body));
      assert.equal(max.body.source, 'canopy');
      assert.equal(max.body.machines, 2);
      assert.equal(max.body.series.length, 1);
      for (const [, v] of max.body.series[0].points) assert.ok(Math.abs(v - 0.8) < 1e-9, `max ${v}`);
      const avg = await q('agg=avg&from=-5m&step=3600');
      assert.ok(Math.abs(avg.body.series[0].points.at(-1)[1] - 0.5) < 1e-9, JSON.stringify(avg.body));
      const per = await q('by=machine&from=-5m');
      assert.deepEqual(per.body.series.map((x: { labels: object }) => x.labels), [{ hostname: 'mq-db-1' }, { hostname: 'mq-web-1' }]);
      const one = await q('machine=mq-web-1&from=-5m');
      assert.ok(one.body.series[0].points.every(([, v]: [number, number]) => Math.abs(v - 0.2) < 1e-9));
      const mem = await s.call('GET', '/api/v1/monitor/query?under=mq.db&metric=instance:node_memory_utilisation:ratio&from=-5m');
      assert.equal(mem.body.series[0].points.at(-1)[1], 0.75);
      const top = await s.call('GET', '/api/v1/monitor/top?under=mq&metric=node_load1&n=1');
      assert.deepEqual(top.body.items.map((i: { hostname: string; value: number }) => [i.hostname, Math.round(i.value * 1e9) / 1e9]), [['mq-db-1', 1.6]]);
      const overview = await s.call('GET', '/api/v1/monitor/overview?under=mq');
      assert.deepEqual({ ...overview.body, byAgent: undefined }, { node: 'mq', machines: 2, byStatus: { online: 2 }, reporting: 2, byAgent: undefined });
      assert.equal(overview.body.byAgent.never, 2);
    });

    test('bad input is refused with 400 and field details; an unknown node is 404', async () => {
      await createNodes(s, 'mbad');
      for (const qs of ['metric=9bad', 'metric=up&match=novalue', 'metric=up&agg=median', 'metric=up&from=-1h&to=-2h', 'metric=up&from=yesterday', 'metric=up&step=1']) {
        const r = await s.call('GET', `/api/v1/monitor/query?under=mbad&${qs}`);
        assert.equal(r.status, 400, `${qs}: ${JSON.stringify(r.body)}`);
      }
      assert.equal((await s.call('GET', '/api/v1/monitor/query?under=nowhere&metric=up')).status, 404);
      assert.equal((await s.call('GET', '/api/v1/monitor/query?under=mbad&metric=up&machine=absent-host')).status, 404);
    });

    test('a push with an unknown series generation asks the agent for its keys again', async () => {
      await createNodes(s, 'mgen');
      const id = await machine('mgen-1', 'mgen', '198.18.200.9');
      await assert.rejects(s.services.monitor.push(id, { gen: 7, samples: [{ at: Date.now(), v: [1] }] }), new RegExp(NEED_DEFS));
      await assert.rejects(s.services.monitor.push(id, { gen: 7, defs: ['up'], samples: [{ at: Date.now(), v: [1, 2] }] }), /2 values for 1 series/);
      await assert.rejects(s.services.monitor.push(id, { gen: 7, defs: ['up{'], samples: [{ at: Date.now(), v: [1] }] }), /unterminated/);
      await s.services.monitor.push(id, { gen: 8, defs: ['up'], samples: [{ at: Date.now(), v: [1] }] });
      await s.services.monitor.push(id, { gen: 8, samples: [{ at: Date.now() + 1, v: [1] }] });
    });

    test('Prometheus service discovery lists the subtree\'s machines with their tree paths', async () => {
      await createNodes(s, 'msd', 'msd.a', 'msd.b');
      await machine('msd-1', 'msd.a', '198.18.201.1');
      const r2 = await s.call('POST', '/api/v1/machines', { hostname: 'msd-2', ips: ['2001:db8::2'], status: 'online', nodes: ['msd.a', 'msd.b'] });
      assert.equal(r2.status, 201);
      const r = await s.call('GET', '/api/v1/monitor/prometheus/targets?under=msd&port=9200');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.map((g: { targets: string[]; labels: Record<string, string> }) => [g.targets, g.labels['instance'], g.labels['canopy_paths']]), [
        [['198.18.201.1:9200'], 'msd-1', ',msd.a,'],
        [['[2001:db8::2]:9200'], 'msd-2', ',msd.a,msd.b,'],
      ]);
      const viewer = await userWith('msd-viewer', 'viewer', 'msd.b');
      assert.equal((await s.call('GET', '/api/v1/monitor/prometheus/targets?under=msd.b', undefined, { token: viewer })).body.length, 1);
      assert.equal((await s.call('GET', '/api/v1/monitor/prometheus/targets?under=msd.a', undefined, { token: viewer })).status, 404);
    });

    test('collect rules are inherited with override, shown with their origin, and need the right operations', async () => {
      await createNodes(s, 'mcr', 'mcr.db');
      const id = await machine('mcr-db-1', 'mcr.db', '198.18.202.1');
      const put = (path: string, rules: unknown[], token?: string) => s.call('PUT', `/api/v1/nodes/${path}/collect-rules`, { rules }, token ? { token } : {});
      assert.equal((await put('mcr', [{ name: 'ssh', kind: 'port', port: 22 }, { name: 'web', kind: 'http', url: 'http://127.0.0.1/health' }])).status, 200);
      const r = await put('mcr.db', [{ name: 'web', kind: 'port', port: 1, disabled: true }, { name: 'ssh', kind: 'port', port: 2222 }, { name: 'pg', kind: 'process', pattern: 'postgres' }]);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.effective.map((e: { rule: { name: string }; from: string }) => [e.rule.name, e.from]), [['pg', 'mcr.db'], ['ssh', 'mcr.db']]);
      assert.deepEqual(s.services.monitor.rules.docOf(id)?.rules.map((x) => x.name), ['pg', 'ssh']);
      const bad = await put('mcr', [{ name: 'x', kind: 'log', path: 'relative', pattern: '(' }]);
      assert.equal(bad.status, 400);
      assert.equal((await put('mcr', [{ name: 'a', kind: 'port', port: 1 }, { name: 'a', kind: 'port', port: 2 }])).status, 400);
      assert.equal((await s.call('GET', '/api/v1/nodes/mcr/collect-rules')).body.own.length, 2, 'refused writes changed nothing');
      const dev = await userWith('mcr-dev', 'developer', 'mcr');
      assert.equal((await put('mcr', [], dev)).status, 403);
      assert.equal((await s.call('POST', '/api/v1/roles', { name: 'mcr-monitor', operations: ['tree.read', 'monitor.read', 'monitor.write'] })).status, 201);
      const mon = await userWith('mcr-mon', 'mcr-monitor', 'mcr');
      assert.equal((await put('mcr.db', [{ name: 'pg', kind: 'process', pattern: 'postgres' }], mon)).status, 200);
      assert.equal((await put('mcr.db', [{ name: 'q', kind: 'script', argv: ['/usr/local/bin/queue-depth'] }], mon)).status, 403);
      assert.equal((await put('mcr.db', [{ name: 'q', kind: 'script', argv: ['/usr/local/bin/queue-depth'] }])).status, 200);
      const audit = await s.call('GET', '/api/v1/audit?limit=5');
      assert.ok(JSON.stringify(audit.body).includes('monitor.collect_rules.set'));
    });

    test('another replica gets every collection too, and leaves its history chunks to the replica it came to', { skip: backend.name !== 'postgres' && 'PGlite is one process: one replica' }, async () => {
      await createNodes(s, 'mr');
      const id = await machine('mr-1', 'mr', '198.18.200.9');
      const other = createServices(s.database, { monitor: { flushSeconds: 3600 }, alerts: { tickMs: 3_600_000 } });
      await other.start();
      const chunks = async () => Number((await rows<{ n: string }>(s.database.db, sql`SELECT count(*) AS n FROM monitor_chunks c JOIN monitor_series x ON x.id = c.series_id WHERE x.machine_id = ${id}`))[0]!.n);
      try {
        // Two minutes of samples: at least one minute bucket closes, whatever the clock, so there are chunks to write.
        await pushCpu(id, 0.5, 12);
        const load1 = () => other.monitor.source.samples({ machineIds: [id], metric: 'node_load1', fromMs: Date.now() - 10 * MIN, toMs: Date.now() })[0]?.points ?? [];
        await until('the other replica has the collections', () => load1().length === 12, 5_000);
        assert.ok(load1().every(([, v]) => v === 1));
        const cpu = other.monitor.source.samples({ machineIds: [id], metric: 'instance:node_cpu_utilisation:rate1m', fromMs: Date.now() - 10 * MIN, toMs: Date.now() })[0]!.points;
        assert.ok(cpu.length > 0 && cpu.every(([, v]) => Math.abs(v - 0.5) < 1e-9), 'counters become the same rates there');
        await other.monitor.history.flush();
        assert.equal(await chunks(), 0, 'a relayed machine\'s chunks are not the other replica\'s to write');
        await s.services.monitor.history.flush();
        assert.ok((await chunks()) > 0, 'the replica it pushes to writes them');
      } finally {
        await other.stop();
      }
    });

    test('history is downsampled into chunks that survive a restart', async () => {
      let now = T0;
      const opts = { now: () => now, flushSeconds: 3600 };
      const h = createHistory({ db: s.database.db }, opts);
      await h.load();
      const key = 'node_memory_MemAvailable_bytes';
      // Three hours of 10 s samples for one machine; value = minute of the day.
      for (let t = T0; t < T0 + 180 * MIN; t += 10_000) {
        now = t;
        h.ingest(990_001, [{ at: t, entries: [[key, Math.floor((t - T0) / MIN) + ((t / 10_000) % 6)]] }]);
      }
      now = T0 + 180 * MIN + 30_000;
      await h.stop();
      const again = createHistory({ db: s.database.db }, opts);
      await again.load();
      const series = [...(again.machineSeries(990_001)?.values() ?? [])];
      assert.equal(series.length, 1);
      const minutes = (await again.read(series, 0, T0, now)).get(series[0]!)!;
      assert.equal(minutes.length, 180);
      assert.deepEqual(minutes[7], [T0 + 7 * MIN, 7 + 2.5, 7, 12]);
      const tens = (await again.read(series, 1, T0, now)).get(series[0]!)!;
      assert.equal(tens.length, 18);
      assert.deepEqual(tens[1], [T0 + 10 * MIN, 14.5 + 2.5, 10, 24]);
      // Ingest resumes the open chunk: the next minute lands after the stored ones.
      now += MIN;
      again.ingest(990_001, [{ at: now, entries: [[key, 1]] }]);
      await again.stop();
      const third = createHistory({ db: s.database.db }, opts);
      await third.load();
      const s3 = [...third.machineSeries(990_001)!.values()];
      assert.equal((await third.read(s3, 0, T0, now + MIN)).get(s3[0]!)!.length, 181);
      assert.ok((await third.diskBytes()) > 0);
    });
  });
}
