/**
 * Issue #3 speed: service discovery with 10,000 services / 100,000 instances, against etcd 3.4 as
 * the peer, measured in the same run on the same loopback:
 *  1. resolve throughput over HTTP keep-alive (wrk): `GET /api/v1/services/{path}/instances?healthy=true`
 *     with a Bearer token of a non-superuser reader, vs etcd range reads of the service's prefix
 *     through its JSON gateway (`POST /v3/kv/range`), linearizable (etcd's default) and serializable;
 *  2. change propagation to 10,000 concurrent watchers: SSE `GET /api/v1/watch?services=…` (each
 *     connection watches the hot service plus 4 random others) vs etcd's gateway `/v3/watch`
 *     streams (each with the same 5 prefix watches); a write to the hot service, then write →
 *     delivery at every watcher (p50/p99) and write → last delivery;
 *  3. DNS queries/s with dnsperf, when the DNS server exists (see dnsBench).
 * Canopy runs in this process on PGlite (the default `npm start` database), listening on loopback;
 * wrk, etcd, dnsperf and the watcher clients are separate processes.
 *
 * Run: node_modules/.bin/node bench/discovery.bench.ts    (Debian: etcd-server wrk dnsperf)
 * Knobs: BENCH_WATCHERS (default 10000), BENCH_SECONDS (wrk seconds per run, default 8),
 * BENCH_PROFILE=DIR (write a CPU profile of the server process per phase into DIR),
 * BENCH_ONLY=resolve,watch,dns (run only these phases), BENCH_ETCD=0 (no peer).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../packages/server/src/http/app.ts';
import { createServices } from '../packages/server/src/services.ts';
import { ADMIN_PASSWORD, testBackends } from '../packages/server/src/testing/index.ts';
import { b64, ensureOpenFiles, etcdCall, have, luaStrings, runWrk, startEtcd, type Etcd, type WrkResult } from './discovery-peers.ts';
import { DEPTS, PER_DEPT, etcdKey, etcdRange, seedCanopy, seedEtcd, servicePath } from './discovery-seed.ts';
import { dnsBench } from './discovery-dns.ts';
import { measurePropagation, type Propagation, type PropagationOptions } from './discovery-propagation.ts';
import { nowMs } from './discovery-watchers.ts';
import { percentile } from './stats.ts';

const SERVICES = DEPTS * PER_DEPT;
const WANTED = Number(process.env['BENCH_WATCHERS'] ?? 10_000);
// The server holds one socket per watcher (and etcd, later, as many): ask for room, or watch fewer.
const FILES = ensureOpenFiles(WANTED + 1024);
const WATCHERS = Math.max(0, Math.min(WANTED, FILES - 1024));
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 8);
const ROUNDS = 5;
const ONLY = new Set((process.env['BENCH_ONLY'] ?? 'resolve,watch,dns').split(','));
const HOT = servicePath(0);
const HOT_HOST = 'h000000.example';
const WRK = { threads: 2, connections: 64, seconds: SECONDS };
const rows: [string, string, string][] = [];
const notes: string[] = [];
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '—');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '—');

/** A deterministic pseudo-random sequence, so every run watches the same services. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Run `work`, under the CPU profiler when BENCH_PROFILE names a directory (open the files in Chrome DevTools). */
async function phase<T>(name: string, work: () => Promise<T>): Promise<T> {
  const dir = process.env['BENCH_PROFILE'];
  if (!dir) return work();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(join(dir, `discovery-${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

// ---------------------------------------------------------------- Canopy, listening on loopback
// Other work on the machine skews every figure here (2 cores are shared by server, load and peer).
const loadAtStart = loadavg()[0] ?? 0;
const t0 = Date.now();
const backend = testBackends()[0];
if (!backend) throw new Error('no database backend');
const database = await backend.open();
await seedCanopy(database);
const seeded = Date.now() - t0;
const services = createServices(database, { onError: (err) => console.error(err), dns: { port: 0 } });
const t1 = Date.now();
await services.start();
const loaded = Date.now() - t1;
await services.auth.bootstrap(ADMIN_PASSWORD);
const app = await buildApp(services, { logLevel: 'silent' });
await app.listen({ port: 0, host: '127.0.0.1' });
const port = (app.server.address() as AddressInfo).port;
const base = `http://127.0.0.1:${port}`;

async function api(method: string, url: string, body?: unknown, token?: string): Promise<any> {
  const res = await fetch(`${base}/api/v1${url}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}
const admin = (await api('POST', '/auth/login', { username: 'admin', password: ADMIN_PASSWORD })).token as string;
// Clients resolve as an ordinary reader (a viewer grant on the root), so every read is authorized.
await api('POST', '/users', { username: 'bench-reader', password: 'bench-reader-pw' }, admin);
await api('POST', '/grants', { user: 'bench-reader', role: 'viewer', nodePath: 'corp' }, admin);
const reader = (await api('POST', '/auth/login', { username: 'bench-reader', password: 'bench-reader-pw' })).token as string;
const sample = await api('GET', `/services/${servicePath(4242)}/instances?healthy=true`, undefined, reader);
if (sample.instances.length !== 10) throw new Error(`expected 10 instances, got ${sample.instances.length}`);
notes.push(`Canopy: PGlite, ${SERVICES.toLocaleString('en')} services / ${(SERVICES * 10).toLocaleString('en')} instances seeded by SQL in ${f1(seeded / 1000)} s, loaded at start-up in ${f1(loaded / 1000)} s; one answer is ${JSON.stringify(sample).length} bytes of JSON.`);

// ---------------------------------------------------------------- etcd peer
let etcd: Etcd | undefined;
if (process.env['BENCH_ETCD'] === '0') notes.push('etcd skipped (BENCH_ETCD=0).');
else if (have('etcd')) {
  etcd = await startEtcd();
  const t2 = Date.now();
  const keys = await seedEtcd(etcd.url, services, SERVICES);
  const r = etcdRange(servicePath(4242));
  const range = await etcdCall(etcd.url, '/v3/kv/range', { key: r.key, range_end: r.rangeEnd });
  if (range.kvs?.length !== 10) throw new Error(`etcd range: expected 10 keys, got ${range.kvs?.length}`);
  notes.push(`etcd ${etcd.version} (pid ${etcd.pid}), one member on loopback, temp data dir, default fsync: ${keys.toLocaleString('en')} keys seeded in ${f1((Date.now() - t2) / 1000)} s (\`/services/<path>/<host>:<port>\` → the instance's JSON); one range answer is ${JSON.stringify(range).length} bytes (values base64, as the gateway sends them).`);
} else notes.push('etcd not installed (apt-get install etcd-server): etcd columns left empty.');

// ---------------------------------------------------------------- 1. resolve throughput
async function resolveBench(): Promise<void> {
  const paths = Array.from({ length: SERVICES }, (_, k) => servicePath(k));
  if (!have('wrk')) {
    notes.push('wrk not installed (apt-get install wrk): resolve throughput skipped.');
    return;
  }
  const canopy = await phase('resolve', () => runWrk(
    base,
    `local paths = ${luaStrings(paths)}
wrk.headers["Authorization"] = "Bearer ${reader}"
request = function() return wrk.format("GET", "/api/v1/services/" .. paths[math.random(#paths)] .. "/instances?healthy=true") end`,
    WRK,
  ));
  const etcdRun = async (serializable: boolean): Promise<WrkResult | undefined> =>
    etcd &&
    runWrk(
      etcd.url,
      `local bodies = ${luaStrings(paths.map((p) => JSON.stringify({ key: etcdRange(p).key, range_end: etcdRange(p).rangeEnd, ...(serializable ? { serializable: true } : {}) })))}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function() return wrk.format("POST", "/v3/kv/range", nil, bodies[math.random(#bodies)]) end`,
      WRK,
    );
  const lin = await etcdRun(false);
  const ser = await etcdRun(true);
  const cell = (r: WrkResult | undefined, f: (r: WrkResult) => string) => (r ? f(r) : '—');
  rows.push(['resolve, req/s (wrk 2 threads, 64 keep-alive connections)', cell(canopy, (r) => r.rps.toFixed(0)), `${cell(lin, (r) => r.rps.toFixed(0))} linearizable · ${cell(ser, (r) => r.rps.toFixed(0))} serializable`]);
  rows.push(['resolve latency p50 / p99, ms', cell(canopy, (r) => `${f2(r.p50)} / ${f2(r.p99)}`), `${cell(lin, (r) => `${f2(r.p50)} / ${f2(r.p99)}`)} · ${cell(ser, (r) => `${f2(r.p50)} / ${f2(r.p99)}`)}`]);
  for (const [name, r] of [['Canopy', canopy], ['etcd linearizable', lin], ['etcd serializable', ser]] as const) {
    if (r && r.errors > 0) notes.push(`${name}: ${r.errors} of ${r.requests} requests failed (non-2xx or socket errors).`);
  }
}

// ---------------------------------------------------------------- 2. change propagation
// Discovery tells its subscribers after the hub has written to every watcher: the server's share.
let fannedOut = 0;
services.discovery.subscribe(() => (fannedOut = nowMs()));

async function propagationBench(): Promise<void> {
  const o = (kind: string): PropagationOptions => ({ rounds: ROUNDS, around: (work) => phase(`writes-${kind}`, work), serverDoneAt: () => fannedOut });
  const random = rng(42);
  const others = () => Array.from({ length: 4 }, () => servicePath(1 + Math.floor(random() * (SERVICES - 1))));
  const sets = Array.from({ length: WATCHERS }, () => [HOT, ...others()]);
  const canopy = await measurePropagation(
    { kind: 'sse', host: '127.0.0.1', port, count: WATCHERS, concurrency: 200, token: reader, requests: sets.map((s) => `/api/v1/watch?services=${s.join(',')}`) },
    (round) => api('PUT', `/services/${HOT}/instances/${HOT_HOST}/8080`, { weight: 2 + round }, admin),
    o('sse'),
  );
  let peer: Propagation | undefined;
  if (etcd) {
    const url = etcd.url;
    const u = new URL(url);
    const key = b64(etcdKey(HOT, HOT_HOST, 8080));
    const value = (w: number) => b64(JSON.stringify({ ...sample.instances[0], hostname: HOT_HOST, weight: w }));
    peer = await measurePropagation(
      {
        kind: 'etcd',
        host: u.hostname,
        port: Number(u.port),
        count: WATCHERS,
        concurrency: 200,
        requests: sets.map((s) => s.map((p) => JSON.stringify({ create_request: { key: etcdRange(p).key, range_end: etcdRange(p).rangeEnd } })).join('\n')),
      },
      async (round) => {
        await etcdCall(url, '/v3/kv/put', { key, value: value(2 + round) });
      },
      { ...o('etcd'), serverDoneAt: () => 0 },
    );
  }
  for (const [name, p] of [['Canopy', canopy], ['etcd', peer]] as const) {
    if (p && p.failed > 0) notes.push(`${name}: ${p.failed} of ${WATCHERS} watch connections failed to open (${p.firstError}).`);
  }
  const both = (f: (p: Propagation) => string): [string, string] => [f(canopy), peer ? f(peer) : '—'];
  rows.push([`watchers connected (opened in s)`, ...both((p) => `${p.opened.toLocaleString('en')} (${f1(p.openSeconds)} s)`)]);
  rows.push([`write → delivery p50 / p99, ms (${ROUNDS} writes × all watchers)`, ...both((p) => `${f1(percentile(p.deliveries, 50))} / ${f1(percentile(p.deliveries, 99))}`)]);
  rows.push(['write → last delivery, median / worst of the writes, ms', ...both((p) => `${f1(percentile(p.lastPerRound, 50))} / ${f1(p.lastPerRound.at(-1) ?? NaN)}`)]);
  rows.push(['write acknowledged, median ms', ...both((p) => f1(percentile(p.ack, 50)))]);
  rows.push(['write → server queued the event on every socket, median ms', f1(percentile(canopy.fanout, 50)), '—']);
  rows.push(['deliveries missing (of watchers × writes)', ...both((p) => String(p.missing))]);
}

// ---------------------------------------------------------------- run, report, clean up
try {
  if (ONLY.has('resolve')) await resolveBench();
  if (ONLY.has('watch')) await propagationBench();
  if (ONLY.has('dns')) {
    const dns = await phase('dns', () => dnsBench(services, { seconds: SECONDS, paths: Array.from({ length: SERVICES }, (_, k) => servicePath(k)) }));
    rows.push(...dns.rows);
    notes.push(...dns.notes);
  }
} finally {
  await etcd?.stop();
  await app.close();
  await services.stop();
  await database.close();
}
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; load average ${loadAtStart.toFixed(1)} at start; open files limit ${FILES}, ${WATCHERS.toLocaleString('en')} watchers${WATCHERS < WANTED ? ` (wanted ${WANTED.toLocaleString('en')}: limit too low)` : ''}\n`);
console.log('| measure | Canopy | etcd |');
console.log('|---|---|---|');
for (const [k, a, b] of rows) console.log(`| ${k} | ${a} | ${b} |`);
console.log('');
for (const n of notes) console.log(`- ${n}`);
