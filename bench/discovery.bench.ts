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
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../packages/server/src/http/app.ts';
import { createServices } from '../packages/server/src/services.ts';
import { ADMIN_PASSWORD, testBackends } from '../packages/server/src/testing/index.ts';
import { b64, etcdCall, have, luaStrings, runWrk, startEtcd, type Etcd, type WrkResult } from './discovery-peers.ts';
import { DEPTS, PER_DEPT, etcdKey, etcdRange, seedCanopy, seedEtcd, servicePath } from './discovery-seed.ts';
import { dnsBench } from './discovery-dns.ts';
import { nowMs, type WatchSpec } from './discovery-watchers.ts';
import { percentile } from './stats.ts';

const SERVICES = DEPTS * PER_DEPT;
const WATCHERS = Number(process.env['BENCH_WATCHERS'] ?? 10_000);
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
  notes.push(`etcd ${etcd.version} (pid ${etcd.pid}), one member on loopback, temp data dir, default fsync: ${keys.toLocaleString('en')} keys seeded in ${f1((Date.now() - t2) / 1000)} s (\`/services/<path>/<host>:<port>\` → the instance's JSON).`);
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
interface Propagation {
  /** Canopy only: write → the server has handed the event to every watcher's socket. */
  fanout: number[];
  opened: number;
  openSeconds: number;
  deliveries: number[];
  lastPerRound: number[];
  ack: number[];
  missing: number;
}

function nextMessage(child: ChildProcess, op: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: { op: string }) => {
      if (m.op !== op) return;
      child.off('message', onMsg);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code: number) => reject(new Error(`watcher process exited (${code}) waiting for '${op}'`));
    child.on('message', onMsg);
    child.once('exit', onExit);
  });
}

/** Open `spec.count` watch streams in a child process, then time ROUNDS writes (profiled as `writes-<kind>`). */
async function propagation(spec: WatchSpec, write: (round: number) => Promise<void>): Promise<Propagation> {
  const child = fork(join(import.meta.dirname, 'discovery-watchers.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    child.send({ op: 'open', ...spec });
    const opened = await nextMessage(child, 'opened');
    if (opened.failed > 0) notes.push(`${spec.kind}: ${opened.failed} of ${spec.count} watch connections failed to open (${opened.firstError}).`);
    const out: Propagation = { opened: opened.open, openSeconds: opened.ms / 1000, deliveries: [], lastPerRound: [], ack: [], missing: 0, fanout: [] };
    await phase(`writes-${spec.kind}`, () => rounds(child, write, out));
    child.send({ op: 'close' });
    await nextMessage(child, 'closed').catch(() => undefined);
    return out;
  } finally {
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
  }
}

/** ROUNDS writes, each timed from just before the write to its arrival at every watcher. */
async function rounds(child: ChildProcess, write: (round: number) => Promise<void>, out: Propagation): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    await new Promise((r) => setTimeout(r, 300));
    child.send({ op: 'arm', round });
    await nextMessage(child, 'armed');
    const delivered = nextMessage(child, 'delivered');
    const start = nowMs();
    await write(round);
    out.ack.push(nowMs() - start);
    const d = (await delivered) as { at: number[]; missing: number };
    if (fannedOut > start) out.fanout.push(fannedOut - start);
    const lat = d.at.map((t) => t - start);
    out.deliveries.push(...lat);
    out.lastPerRound.push(Math.max(...lat));
    out.missing += d.missing;
  }
  out.deliveries.sort((a, b) => a - b);
  out.lastPerRound.sort((a, b) => a - b);
  out.ack.sort((a, b) => a - b);
}

// Discovery tells its subscribers after the hub has written to every watcher: the server's share.
let fannedOut = 0;
services.discovery.subscribe(() => (fannedOut = nowMs()));

async function propagationBench(): Promise<void> {
  const random = rng(42);
  const others = () => Array.from({ length: 4 }, () => servicePath(1 + Math.floor(random() * (SERVICES - 1))));
  const sets = Array.from({ length: WATCHERS }, () => [HOT, ...others()]);
  const canopy = await propagation(
    { kind: 'sse', host: '127.0.0.1', port, count: WATCHERS, concurrency: 200, token: reader, requests: sets.map((s) => `/api/v1/watch?services=${s.join(',')}`) },
    (round) => api('PUT', `/services/${HOT}/instances/${HOT_HOST}/8080`, { weight: 2 + round }, admin),
  );
  let peer: Propagation | undefined;
  if (etcd) {
    const url = etcd.url;
    const u = new URL(url);
    const key = b64(etcdKey(HOT, HOT_HOST, 8080));
    const value = (w: number) => b64(JSON.stringify({ ...sample.instances[0], hostname: HOT_HOST, weight: w }));
    peer = await propagation(
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
    );
  }
  const both = (f: (p: Propagation) => string): [string, string] => [f(canopy), peer ? f(peer) : '—'];
  rows.push([`watchers connected (opened in s)`, ...both((p) => `${p.opened.toLocaleString('en')} (${f1(p.openSeconds)} s)`)]);
  rows.push([`write → delivery p50 / p99, ms (${ROUNDS} writes × all watchers)`, ...both((p) => `${f1(percentile(p.deliveries, 50))} / ${f1(percentile(p.deliveries, 99))}`)]);
  rows.push(['write → last delivery, median / worst of the writes, ms', ...both((p) => `${f1(percentile(p.lastPerRound, 50))} / ${f1(p.lastPerRound.at(-1) ?? NaN)}`)]);
  rows.push(['write acknowledged, median ms', ...both((p) => f1(percentile(p.ack, 50)))]);
  rows.push(['write → server wrote the event to every socket, median ms', f1(percentile([...canopy.fanout].sort((a, b) => a - b), 50)), '—']);
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
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; open files limit: see notes\n`);
console.log('| measure | Canopy | etcd |');
console.log('|---|---|---|');
for (const [k, a, b] of rows) console.log(`| ${k} | ${a} | ${b} |`);
console.log('');
for (const n of notes) console.log(`- ${n}`);
