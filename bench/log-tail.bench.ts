/**
 * Issue 12, speed: access-log tailing and aggregation on an nginx machine, as the agent's
 * access-log module does it (tail.ts + aggregate.ts: read whole lines, JSON.parse, route by
 * domain + longest location, count per backend attempt with latency histograms).
 *
 * 1. Steady: a writer in another process appends canopy_json lines at BENCH_RATE lines/s (default
 *    20,000) for BENCH_SECONDS (default 30); the tailer polls every BENCH_POLL_MS (default 1000,
 *    the module itself polls once per 10 s window). Reports this process's CPU share of one core
 *    (process.cpuUsage) while keeping up. Target: ≥ 20,000 lines/s at < 20 % of a core.
 * 2. Flat out: BENCH_LINES (default 1,000,000) lines already written, tailed and counted as fast as
 *    one core can: lines/s. Peer in the same run: `wc -l` on the same file (reading lines only).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAggregator } from '../packages/agent/src/access-log/aggregate.ts';
import { createTail } from '../packages/agent/src/access-log/tail.ts';

const RATE = Number(process.env['BENCH_RATE'] ?? 20_000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 30);
const POLL_MS = Number(process.env['BENCH_POLL_MS'] ?? 1000);
const LINES = Number(process.env['BENCH_LINES'] ?? 1_000_000);

const ROUTES = [
  { domain: 'shop.test', location: '/', upstream: 'shop_web', service: 'corp.shop.web' },
  { domain: 'shop.test', location: '/api/', upstream: 'shop_api', service: 'corp.shop.api' },
  { domain: 'pay.test', location: '/', upstream: 'pay_web', service: 'corp.pay.web' },
];

// The writer's line generator, as source text so the writer runs in its own process.
const GEN = `
const hosts = ['shop.test', 'shop.test', 'pay.test'];
const uris = ['/', '/api/cart', '/index.html', '/api/items/42'];
function line(i) {
  const h = hosts[i % 3], u = uris[i % 4], b = '10.0.' + (i % 4) + '.' + (i % 7) + ':8000';
  const st = i % 97 === 0 ? 502 : 200;
  const t = ((i % 50) / 1000).toFixed(3);
  return JSON.stringify({ time: '2026-12-03T17:00:00+00:00', remote_addr: '198.18.0.1', host: h, server_port: '8080', method: 'GET', uri: u, status: st, request_time: Number(t), bytes_sent: 512, upstream: 'shop_web', upstream_addr: b, upstream_status: String(st), upstream_response_time: t, request_id: 'a3f1c2d4e5b6a7980123456789abcdef' }) + '\\n';
}`;

function measureSteady(dir: string): Promise<{ lines: number; cpu: number; lag: number }> {
  const file = join(dir, 'steady.log');
  writeFileSync(file, '');
  const tail = createTail(file);
  const agg = createAggregator();
  agg.setRoutes(ROUTES);
  let lines = 0;
  tail.poll(() => {});
  const writer = spawn(process.execPath, ['-e', `${GEN}
const fs = require('node:fs'); const fd = fs.openSync(${JSON.stringify(file)}, 'a');
let i = 0; const start = Date.now(); const end = start + ${SECONDS * 1000};
const timer = setInterval(() => { const want = Math.min(Math.floor((Date.now() - start) / 1000 * ${RATE}), ${RATE * SECONDS}); let s = ''; while (i < want) s += line(i++); if (s) fs.writeSync(fd, s); if (Date.now() >= end && i >= ${RATE * SECONDS}) { clearInterval(timer); process.stdout.write(String(i)); } }, 20);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let written = '';
  writer.stdout.on('data', (d: Buffer) => (written += String(d)));
  const done = new Promise<void>((r) => writer.once('exit', () => r()));
  return (async () => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let exited = false;
    void done.then(() => (exited = true));
    while (!exited) {
      await sleep(POLL_MS);
      tail.poll((l) => {
        lines++;
        agg.add(l);
      });
      agg.take();
    }
    const lagStart = performance.now();
    tail.poll((l) => {
      lines++;
      agg.add(l);
    });
    agg.take();
    const elapsed = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(cpu0);
    tail.close();
    if (Number(written) !== lines) throw new Error(`wrote ${written} lines, tailed ${lines}`);
    return { lines, cpu: (c.user + c.system) / 1e6 / elapsed, lag: performance.now() - lagStart };
  })();
}

function measureFlat(dir: string): { perSecond: number; wcPerSecond: number } {
  const file = join(dir, 'flat.log');
  const gen = new Function(`${GEN}; return line;`)() as (i: number) => string;
  const parts: string[] = [];
  for (let i = 0; i < LINES; i++) parts.push(gen(i));
  writeFileSync(file, parts.join(''));
  const tail = createTail(file, []);
  const agg = createAggregator();
  agg.setRoutes(ROUTES);
  let n = 0;
  const t0 = performance.now();
  tail.poll((l) => {
    n++;
    agg.add(l);
  });
  const series = agg.take();
  const s = (performance.now() - t0) / 1000;
  tail.close();
  if (n !== LINES || series.length === 0) throw new Error(`tailed ${n} of ${LINES}`);
  const w0 = performance.now();
  execFileSync('wc', ['-l', file]);
  return { perSecond: LINES / s, wcPerSecond: LINES / ((performance.now() - w0) / 1000) };
}

const dir = mkdtempSync(join(tmpdir(), 'log-tail-bench-'));
try {
  const steady = await measureSteady(dir);
  const flat = measureFlat(dir);
  console.log('| measure | value |');
  console.log('|---|---|');
  console.log(`| steady: lines written and tailed (${RATE.toLocaleString('en')} lines/s × ${SECONDS} s) | ${steady.lines.toLocaleString('en')}, none lost |`);
  console.log(`| steady: CPU of tailing + counting, share of one core | ${(steady.cpu * 100).toFixed(1)} % (target < 20 %) |`);
  console.log(`| steady: lines/s at that share | ${RATE.toLocaleString('en')} (target ≥ 20,000) |`);
  console.log(`| flat out: lines/s on one core (${LINES.toLocaleString('en')} lines) | ${Math.round(flat.perSecond).toLocaleString('en')} |`);
  console.log(`| peer: \`wc -l\` on the same file, lines/s | ${Math.round(flat.wcPerSecond).toLocaleString('en')} |`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
