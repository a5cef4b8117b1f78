/**
 * Issue 12, alert evaluation: BENCH_MACHINES (1,000) machines under bench.alerts, 50 series each in
 * the embedded store, six rules (five at the root, one overridden below); measured in process:
 *  1. lag: one ingest batch of 100 machines (as the dispatcher hands pushes over) → its rules judged
 *     and any change written, p50/p99 over 30 batches (target < 1 s);
 *  2. a full pass over every machine (the periodic tick: nodata, for-durations, repeats).
 */
import { mkNodes, startTestServer, testBackends } from '../packages/server/src/testing/index.ts';
import { fmt, timeMany } from './stats.ts';

const N = Number(process.env['BENCH_MACHINES'] ?? 1000);
const SERIES = 50;
const BATCH = 100;

const s = await startTestServer(testBackends()[0]!, { onError: () => {}, monitor: { flushSeconds: 3600 }, alerts: { tickMs: 3_600_000 } });
try {
  await mkNodes(s, 'bench.alerts.db');
  const csv = ['hostname,nodes', ...Array.from({ length: N }, (_, i) => `al-${i},${i % 10 === 0 ? 'bench.alerts.db' : 'bench.alerts'}`)].join('\n');
  const r = await s.call('POST', '/api/v1/machines/import', csv, { headers: { 'content-type': 'text/csv' } });
  if (r.status !== 200) throw new Error(`import: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
  const ids = [...s.services.machines.model.query({}, N + 10, undefined).ids];
  const cond = (metric: string, fn: string, threshold: number, match?: Record<string, string>) => ({ metric, fn, op: '>', threshold, ...(match ? { match } : {}) });
  const rules: [string, string, unknown][] = [
    ['bench', 'disk', { conditions: [cond('node_filesystem_used_percent', 'all(#3)', 90)] }],
    ['bench.alerts.db', 'disk', { conditions: [cond('node_filesystem_used_percent', 'all(#3)', 95)] }],
    ['bench', 'load', { conditions: [cond('node_load1', 'avg(#5)', 8)] }],
    ['bench', 'cpu', { conditions: [cond('cpu_busy_percent', 'max(#3)', 95), cond('node_load1', 'all(#2)', 4)] }],
    ['bench', 'net', { conditions: [cond('net_rx_bytes', 'pdiff(#3)', 300, { device: 'eth0' })] }],
    ['bench', 'agent-down', { conditions: [{ metric: 'canopy_agent_up', fn: 'all(#1)', op: '==', threshold: 0 }] }],
  ];
  for (const [node, name, rule] of rules) if ((await s.call('PUT', `/api/v1/nodes/${node}/alert-rules/${name}`, rule)).status !== 200) throw new Error(`rule ${name}`);
  const defs = [
    ...Array.from({ length: 10 }, (_, j) => `node_filesystem_used_percent{mountpoint="/m${j}"}`),
    ...Array.from({ length: 10 }, (_, j) => `net_rx_bytes{device="eth${j}"}`),
    'node_load1', 'cpu_busy_percent',
    ...Array.from({ length: SERIES - 22 }, (_, j) => `filler_${j}`),
  ];
  let t = Date.now() - 60_000;
  const pushBatch = async (batch: number[]) => {
    t += 10;
    for (const id of batch) await s.services.monitor.push(id, { gen: 1, defs, samples: [{ at: t, v: defs.map((_, j) => (id * 7 + j + t) % 97) }] });
  };
  for (let i = 0; i < 5; i++) await pushBatch(ids);
  let b = 0;
  const lag = await timeMany(30, async () => {
    const batch = ids.slice((b * BATCH) % N, ((b * BATCH) % N) + BATCH);
    b++;
    await pushBatch(batch);
    await s.services.alerts.evaluator.evaluate(batch);
  }, 3);
  const full = await timeMany(10, () => s.services.alerts.evaluator.evaluate(), 2);
  const live = s.services.alerts.service.model.live().length;
  console.log(`alerts: ${N} machines × ${SERIES} series, ${rules.length} rules (1 override); ${live} live alerts`);
  console.log(`  ingest batch of ${BATCH} machines → judged and written (push included): ${fmt(lag)}`);
  console.log(`  full pass over ${N} machines: ${fmt(full)}`);
} finally {
  await s.close();
}
