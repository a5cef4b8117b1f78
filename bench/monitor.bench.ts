/**
 * Issue 12, speed of the embedded metrics store (PGlite):
 *  1. ingest: BENCH_MACHINES (1,000) simulated agents × 50 series pushing every 10 s from another
 *     process (monitor-client.ts, the real session protocol) into a control center running as its
 *     own process; its CPU (utime + stime, /proc) over BENCH_WINDOW_S as a share of one core, RSS,
 *     and the pushes acknowledged. History is flushed every 60 s here (default 300), so the window
 *     includes flushes;
 *  2. disk: a simulated week of BENCH_WEEK_MACHINES (5) × 50 series at 10 s, through the store with
 *     a fake clock, flushed every simulated 5 minutes as in production: bytes per series on disk;
 *  3. a 7-day chart of a 1,000-machine node (one series each, 10-minute samples for 7 days),
 *     GET /api/v1/monitor/query with from=-7d: p50/p99 over 20 requests (the first one cold);
 *  4. the same chart in Prometheus mode, from a real Prometheus holding the same data: computed from
 *     the machines' series, then from the recording rules Canopy exports (backfilled with promtool).
 */
import { fork, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase } from '../packages/server/src/db/connection.ts';
import { migrate } from '../packages/server/src/db/migrate.ts';
import { SYSTEM_ACTOR } from '../packages/server/src/changes/index.ts';
import { createHistory } from '../packages/server/src/monitor/history.ts';
import { ADMIN_PASSWORD, mkNodes, startTestServer } from '../packages/server/src/testing/index.ts';
import { startControlCenter } from '../packages/agent/src/testing.ts';
import { fmt, timeMany } from './stats.ts';

const N = Number(process.env['BENCH_MACHINES'] ?? 1000);
const SERIES = 50;
const WINDOW_S = Number(process.env['BENCH_WINDOW_S'] ?? 60);
const WEEK_MACHINES = Number(process.env['BENCH_WEEK_MACHINES'] ?? 5);
const CHART_MACHINES = Number(process.env['BENCH_CHART_MACHINES'] ?? 1000);
const TICK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim());
const cpuSeconds = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
};
const rssMb = (pid: number) => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
const open = (dataDir: string) => async () => {
  const db = await openDatabase({ dataDir });
  await migrate(db);
  return db;
};

/** N machines under bench.mon, imported in one write, and a credential each. */
async function seed(dataDir: string, n: number): Promise<string[]> {
  const s = await startTestServer({ name: 'pglite', open: open(dataDir) });
  try {
    await mkNodes(s, 'bench.mon');
    const csv = ['hostname,ips,nodes', ...Array.from({ length: n }, (_, i) => `mon-${i},10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255},bench.mon`)].join('\n');
    const r = await s.call('POST', '/api/v1/machines/import', csv, { headers: { 'content-type': 'text/csv' } });
    if (r.status !== 200 || r.body.created !== n) throw new Error(`import: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    return await s.services.writer.run(SYSTEM_ACTOR, async (w) => {
      const out: string[] = [];
      for (let j = 0; j < n; j++) {
        const m = s.services.machines.model.byHostname(`mon-${j}`)!;
        out.push((await s.services.agents.issueIn(w, { id: m.id, hostname: m.hostname }, 'agent')).token);
      }
      return out;
    });
  } finally {
    await s.close();
  }
}

async function ingest(): Promise<string[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'canopy-bench-mon-'));
  const tokens = await seed(dataDir, N);
  const file = join(dataDir, '..', `mon-tokens-${process.pid}`);
  writeFileSync(file, tokens.join('\n'), { mode: 0o600 });
  const cc = await startControlCenter({ host: '127.0.0.1', adminPassword: ADMIN_PASSWORD, dataDir, env: { CANOPY_MONITOR_FLUSH_SECONDS: '60', CANOPY_ACCESS_LOG: 'false' } });
  const client = fork(join(import.meta.dirname, 'monitor-client.ts'), [cc.url, file, String(SERIES)], { stdio: 'inherit' });
  const stats = () => new Promise<{ pushed: number; refused: number }>((resolve) => {
    client.once('message', (m) => resolve(m as never));
    client.send({ t: 'stats' });
  });
  try {
    await new Promise<void>((resolve) => client.once('message', () => resolve()));
    // One full period so every agent has sent its keys, and the first flush of series ids is done.
    await sleep(15_000);
    const pid = cc.proc.pid!;
    const c0 = cpuSeconds(pid);
    const s0 = await stats();
    const t0 = performance.now();
    await sleep(WINDOW_S * 1000);
    const cpu = (cpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000);
    const s1 = await stats();
    const storage = await cc.call('GET', '/api/v1/monitor/storage');
    return [
      `| ingest: ${N} machines × ${SERIES} series / 10 s (${(N * SERIES) / 10} samples/s), control-center CPU | ${(cpu * 100).toFixed(1)} % of a core (target < 25 %) |`,
      `| ingest: pushes acknowledged in ${WINDOW_S} s / refused | ${s1.pushed - s0.pushed} / ${s1.refused - s0.refused} |`,
      `| ingest: control-center RSS, series held | ${rssMb(pid).toFixed(0)} MB, ${storage.body.series} |`,
    ];
  } finally {
    client.kill();
    await cc.stop();
    rmSync(file, { force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function week(): Promise<string[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'canopy-bench-week-'));
  const db = await open(dataDir)();
  try {
    const start = Date.UTC(2026, 0, 5);
    let now = start;
    const h = createHistory({ db: db.db }, { now: () => now });
    await h.load();
    const keys = Array.from({ length: SERIES }, (_, j) => (j < 10 ? `node_cpu_seconds_total{cpu="${j}",mode="idle"}` : j < 20 ? `node_filesystem_size_bytes{mountpoint="/m${j}"}` : `app_gauge_${j}`));
    const counters = new Float64Array(WEEK_MACHINES * SERIES);
    const t0 = performance.now();
    for (now = start; now < start + 7 * 86_400_000; now += 10_000) {
      for (let m = 0; m < WEEK_MACHINES; m++)
        h.ingest(1_000_000 + m, [{ at: now, entries: keys.map((k, j): [string, number] => {
          const x = m * SERIES + j;
          if (j < 10) return [k, (counters[x] = (counters[x] ?? 0) + 5 + Math.round(Math.random() * 300) / 100)];
          if (j < 20) return [k, 1e11];
          return [k, Math.round((50 + 20 * Math.sin(now / 3_600_000 + j) + Math.random() * 5) * 100) / 100];
        }) }]);
      if ((now - start) % 300_000 === 0) await h.flush();
    }
    await h.stop();
    const seconds = (performance.now() - t0) / 1000;
    const series = h.seriesCount();
    const bytes = await h.diskBytes();
    return [
      `| disk after a simulated week (${WEEK_MACHINES} machines × ${SERIES} series + derived = ${series} series, flushed every 5 min) | ${(bytes / series / 1024).toFixed(1)} KiB per series (${(bytes / 2 ** 20).toFixed(1)} MiB); ${(((bytes / series) * N * SERIES) / 2 ** 30).toFixed(2)} GiB at ${N} × ${SERIES} (budget 2 GiB) |`,
      `| simulating the week (${((WEEK_MACHINES * SERIES * 60_480) / seconds / 1e6).toFixed(2)} M samples/s in-process) | ${seconds.toFixed(0)} s |`,
    ];
  } finally {
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function chart(): Promise<string[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'canopy-bench-chart-'));
  const end = Date.now();
  let now = end - 7 * 86_400_000;
  const s = await startTestServer({ name: 'pglite', open: open(dataDir) }, { monitor: { now: () => now, flushSeconds: 3600 } });
  try {
    await mkNodes(s, 'bench.chart');
    const csv = ['hostname,nodes', ...Array.from({ length: CHART_MACHINES }, (_, i) => `chart-${i},bench.chart`)].join('\n');
    const r = await s.call('POST', '/api/v1/machines/import', csv, { headers: { 'content-type': 'text/csv' } });
    if (r.status !== 200) throw new Error(`import: ${r.status}`);
    const ids = Array.from({ length: CHART_MACHINES }, (_, i) => s.services.machines.model.byHostname(`chart-${i}`)!.id);
    for (; now < end; now += 600_000) {
      for (const [i, id] of ids.entries()) s.services.monitor.history.ingest(id, [{ at: now, entries: [['node_load1', (i % 10) + Math.random()]] }]);
      if (now % 21_600_000 < 600_000) await s.services.monitor.history.flush();
    }
    now = end;
    await s.services.monitor.history.flush();
    let cold = 0;
    const q = async () => {
      const t = performance.now();
      const res = await s.call('GET', '/api/v1/monitor/query?under=bench.chart&metric=node_load1&agg=p95&from=-7d');
      if (res.status !== 200 || res.body.series[0].points.length < 160) throw new Error(`chart: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      cold ||= performance.now() - t;
    };
    const times = await timeMany(20, q, 1);
    return [`| 7-day chart of a ${CHART_MACHINES}-machine node (p95 across machines, 1 h points), p50 / p99 ms | ${fmt(times)} (first, cold: ${cold.toFixed(0)} ms; target p50 < 300) |`];
  } finally {
    await s.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The same chart in Prometheus mode: the same 1,000 machines' node_load1 for 7 days at 10-minute
 * points, backfilled into a real Prometheus (`promtool tsdb create-blocks-from openmetrics`), which
 * Canopy reads with CANOPY_PROMETHEUS_URL set; its lookback is 15 min so sparse points cover every
 * step (scraped every 10 s, the default 5 min would do).
 */
async function promChart(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-bench-prom-'));
  const end = Math.floor(Date.now() / 600_000) * 600_000 - 600_000;
  const start = end - 7 * 86_400_000;
  const lines = ['# TYPE node_memory_MemAvailable_bytes gauge', '# TYPE node_memory_MemTotal_bytes gauge'];
  // The memory panel's two series per machine, one sample per 10 minutes for 7 days (OpenMetrics
  // wants each metric family's samples together).
  for (const [name, value] of [['node_memory_MemAvailable_bytes', (i: number) => (1 + (i % 10) + Math.random()) * 2 ** 30], ['node_memory_MemTotal_bytes', () => 16 * 2 ** 30]] as const)
    for (let i = 0; i < CHART_MACHINES; i++)
      for (let t = start; t <= end; t += 600_000) lines.push(`${name}{instance="chart-${i}",canopy_paths=",bench.chart,"} ${value(i).toFixed(0)} ${t / 1000}`);
  lines.push('# EOF');
  writeFileSync(join(dir, 'data.om'), `${lines.join('\n')}\n`);
  const tsdb = join(dir, 'tsdb');
  const made = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'data.om'), tsdb], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`promtool: ${made.stderr.slice(-500)}`);
  writeFileSync(join(dir, 'prometheus.yml'), 'global: {}\n');
  const port = 19_000 + Math.floor(Math.random() * 1000);
  const promUrl = `http://127.0.0.1:${port}`;
  let prom: ReturnType<typeof spawn> | undefined;
  const startProm = async (config: string) => {
    writeFileSync(join(dir, 'prometheus.yml'), config);
    prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${tsdb}`, `--web.listen-address=127.0.0.1:${port}`, '--storage.tsdb.retention.time=30d', '--query.lookback-delta=15m'], { stdio: 'ignore' });
    for (let i = 0; ; i++) {
      if (await fetch(`${promUrl}/-/ready`).then((r) => r.ok, () => false)) break;
      if (i > 600) throw new Error('prometheus did not get ready');
      await sleep(100);
    }
  };
  const stopProm = async () => {
    if (!prom || prom.exitCode !== null) return;
    const exited = new Promise((r) => prom!.once('exit', r));
    prom.kill('SIGTERM');
    await exited;
  };
  const dataDir = mkdtempSync(join(tmpdir(), 'canopy-bench-chart-'));
  let s: Awaited<ReturnType<typeof startTestServer>> | undefined;
  try {
    await startProm('global: {}\n');
    s = await startTestServer({ name: 'pglite', open: open(dataDir) }, { monitor: { prometheusUrl: promUrl } });
    await mkNodes(s, 'bench.chart');
    const csv = ['hostname,nodes', ...Array.from({ length: CHART_MACHINES }, (_, i) => `chart-${i},bench.chart`)].join('\n');
    const r = await s.call('POST', '/api/v1/machines/import', csv, { headers: { 'content-type': 'text/csv' } });
    if (r.status !== 200) throw new Error(`import: ${r.status}`);
    const metric = 'instance:node_memory_utilisation:ratio';
    const path = `/api/v1/monitor/query?under=bench.chart&metric=${metric}&agg=p95&from=${start}&to=${end}`;
    const chart = async (recorded: boolean) => {
      const res = await s!.call('GET', path);
      if (res.status !== 200 || res.body.source !== 'prometheus' || res.body.series[0].points.length < 160 || (res.body.recorded !== undefined) !== recorded) throw new Error(`chart: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    };
    // Before the rules: the chart computes from the 1,000 machines' series.
    const unrecorded = await timeMany(10, () => chart(false), 1);
    // The peer: the same PromQL asked of Prometheus directly, as Canopy asks it.
    const sel = 'canopy_paths=~".*,bench\\\\.chart(\\\\.[^,]*)?,.*"';
    const qs = new URLSearchParams({ query: `quantile(0.95, 1 - max by (instance) (node_memory_MemAvailable_bytes{${sel}}) / max by (instance) (node_memory_MemTotal_bytes{${sel}}))`, start: String(start / 1000), end: String(end / 1000), step: String(Math.ceil((end - start) / 1000 / 240)) });
    const direct = await timeMany(10, async () => {
      const res = await fetch(`${promUrl}/api/v1/query_range?${qs}`);
      const body = (await res.json()) as { data?: { result?: { values: unknown[] }[] } };
      if (!res.ok || (body.data?.result?.[0]?.values.length ?? 0) < 160) throw new Error(`prometheus: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
    }, 1);
    // The operator's way in: Canopy's recording rules, backfilled over the week with promtool, then
    // loaded by Prometheus (restarted onto the new blocks).
    const rules = join(dir, 'recording.yml');
    writeFileSync(rules, String((await s.call('GET', '/api/v1/monitor/prometheus/recording-rules?under=bench.chart')).body));
    const t0 = performance.now();
    const backfill = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'rules', `--start=${start / 1000}`, `--end=${end / 1000}`, `--url=${promUrl}`, `--output-dir=${join(dir, 'recorded')}`, '--quiet', rules], { encoding: 'utf8', cwd: dir });
    if (backfill.status !== 0) throw new Error(`promtool rules: ${backfill.stderr.slice(-500)}`);
    const backfillS = (performance.now() - t0) / 1000;
    await stopProm();
    for (const block of readdirSync(join(dir, 'recorded'))) renameSync(join(dir, 'recorded', block), join(tsdb, block));
    await startProm(`global: {}\nrule_files: [${JSON.stringify(rules)}]\n`);
    let cold = 0;
    const times = await timeMany(20, async () => {
      const t = performance.now();
      await chart(true);
      cold ||= performance.now() - t;
    }, 1);
    return [
      `| the same 7-day chart (memory panel, p95) in Prometheus mode (real Prometheus, backfilled), from the recorded series, p50 / p99 ms | ${fmt(times)} (first, cold: ${cold.toFixed(0)} ms; target p50 < 300) |`,
      `| the same chart before the recording rules (from the 1,000 machines' series), p50 / p99 ms | ${fmt(unrecorded)} |`,
      `| peer: that PromQL asked of the same Prometheus directly, p50 / p99 ms | ${fmt(direct)} |`,
      `| backfilling the recording rules over the 7 days (\`promtool tsdb create-blocks-from rules\`), once | ${backfillS.toFixed(1)} s |`,
    ];
  } finally {
    await s?.close();
    await stopProm();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: string[] = ['| what | result |', '|---|---|'];
for (const phase of (process.env['BENCH_PHASES'] ?? 'ingest,week,chart,promchart').split(',')) {
  if (phase === 'ingest') rows.push(...(await ingest()));
  if (phase === 'week') rows.push(...(await week()));
  if (phase === 'chart') rows.push(...(await chart()));
  if (phase === 'promchart') rows.push(...(await promChart()));
}
console.log(rows.join('\n'));
