/**
 * Issue 11, speed: deployments. The control center runs as its own process (`npm start`'s entry,
 * startControlCenter) on loopback; BENCH_AGENTS (default 100) simulated agents speak the real
 * protocol from BENCH_SIMS (default 2) other processes (deploy-agents.ts), each agent really
 * downloading and sha256-checking the artifact.
 *  (a) a BENCH_MB (default 50) MB artifact deployed to every agent (batch BENCH_BATCH, default 25%,
 *      monitorSeconds 0, reports every 100 ms like the agent's reporter): POST → every host staged,
 *      → succeeded; control-center CPU (/proc/PID/stat); aggregate download throughput while
 *      staging, next to `curl --parallel` fetching the same URL as many times from the same server
 *      in the same run (machine token, -o /dev/null), and next to as many `curl | openssl dgst
 *      -sha256` at once: the same work as the agents', who hash every byte on the same 2 cores.
 *      Target ≥ 80 % of curl doing that work.
 *  (b) orchestration overhead per batch: a tiny artifact in batches of 10, monitor and delay 0,
 *      agents answering at once: (succeeded − first start)/batches, and per batch the time from the
 *      last host of batch k saying it is up to the first assignment of batch k+1 reaching its agent
 *      (target < 100 ms); once as a first deployment, once as a stop-first redeploy (old tasks).
 * PGlite, and PostgreSQL too when CANOPY_TEST_DATABASE_URL is set (a database of its own, dropped).
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startControlCenter, type ControlCenterProcess } from '../packages/agent/src/testing.ts';
import type { TaskEvents } from './deploy-agents.ts';
import { percentile } from './stats.ts';

const N = Number(process.env['BENCH_AGENTS'] ?? 100);
const MB = Number(process.env['BENCH_MB'] ?? 50);
const BATCH = process.env['BENCH_BATCH'] ?? '25%';
const SIMS = Number(process.env['BENCH_SIMS'] ?? 2);
const TICK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim());
const cpuSeconds = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
};
const ms = (x: number) => `${x.toFixed(0)} ms`;
const s2 = (x: number) => `${(x / 1000).toFixed(2)} s`;
const max = (xs: number[]) => xs.reduce((a, b) => Math.max(a, b), -Infinity);
const min = (xs: number[]) => xs.reduce((a, b) => Math.min(a, b), Infinity);

interface Host { hostname: string; batch: number; taskId: string | null; state: string }
interface Detail { id: number; state: string; reason: string | null; batches: number[]; createdAt: string; finishedAt: string | null; hosts: Host[] }

/** A tar.gz holding `bytes` random bytes and a VERSION file; returns its path and sha256. */
function artifact(dir: string, version: string, bytes: number): { file: string; sha256: string; size: number } {
  const src = join(dir, `src-${version}`);
  mkdirSync(src);
  writeFileSync(join(src, 'VERSION'), `${version}\n`);
  writeFileSync(join(src, 'payload.bin'), randomBytes(bytes));
  const file = join(dir, `${version}.tar.gz`);
  const r = spawnSync('tar', ['-C', src, '-I', 'gzip -1', '-cf', file, 'VERSION', 'payload.bin']);
  if (r.status !== 0) throw new Error(`tar: ${r.stderr}`);
  const body = readFileSync(file);
  rmSync(src, { recursive: true });
  return { file, sha256: createHash('sha256').update(body).digest('hex'), size: body.length };
}

function upload(cc: ControlCenterProcess, path: string, a: { file: string; sha256: string; size: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const u = new URL(`/api/v1/artifacts/${path}?sha256=${a.sha256}`, cc.url);
    const req = request(u, { method: 'PUT', headers: { authorization: `Bearer ${cc.token}`, 'content-type': 'application/octet-stream', 'content-length': a.size } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`upload ${path}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    createReadStream(a.file).pipe(req);
  });
}

async function ok(r: Promise<{ status: number; body: any }>, what: string): Promise<any> {
  const x = await r;
  if (x.status >= 300) throw new Error(`${what}: ${x.status} ${JSON.stringify(x.body).slice(0, 400)}`);
  return x.body;
}

/** Nodes, N machines bound to both, a credential each, processes declared, artifacts pushed. */
async function seed(cc: ControlCenterProcess, work: string): Promise<{ creds: [string, string][]; big: { sha256: string; size: number } }> {
  for (const [parentPath, name] of [[null, 'bench'], ['bench', 'big'], ['bench', 'small']] as const) await ok(cc.call('POST', '/api/v1/nodes', { parentPath, name }), `node ${name}`);
  const machines = Array.from({ length: N }, (_, i) => ({ hostname: `dep-${i}`, ips: [`10.77.${i >> 8}.${i & 255}`], nodes: ['bench.big', 'bench.small'], status: 'online' }));
  const imported = await ok(cc.call('POST', '/api/v1/machines/import', machines), 'import');
  if (imported.created !== N) throw new Error(`import: ${JSON.stringify(imported).slice(0, 400)}`);
  const creds: [string, string][] = [];
  for (const m of machines) creds.push([m.hostname, (await ok(cc.call('POST', `/api/v1/machines/${m.hostname}/credentials`, { name: 'agent' }), 'credential')).token]);
  for (const node of ['bench.big', 'bench.small']) {
    await ok(cc.call('PUT', `/api/v1/nodes/${node}/process`, { argv: ['bin/app'], health: { type: 'http', port: 8080, path: '/health' }, deployed: true }), `process ${node}`);
  }
  const big = artifact(work, 'big-1.0.0', MB * 1_000_000);
  await upload(cc, 'bench.big/1.0.0', big);
  for (const v of ['1.0.0', '2.0.0']) await upload(cc, `bench.small/${v}`, artifact(work, `small-${v}`, 1024));
  return { creds, big };
}

/** POST a deployment and wait (polling every 500 ms) until it has finished; fails unless it succeeded. */
async function deploy(cc: ControlCenterProcess, nodePath: string, version: string, strategy: Record<string, unknown>): Promise<{ t0: number; d: Detail; cpu: number }> {
  const cpu0 = cpuSeconds(cc.proc.pid!);
  const t0 = Date.now();
  const made = (await ok(cc.call('POST', '/api/v1/deployments', { nodePath, version, strategy: { monitorSeconds: 0, ...strategy } }), 'deployment')) as Detail;
  const deadline = Date.now() + 240_000;
  for (;;) {
    await sleep(500);
    const d = (await ok(cc.call('GET', `/api/v1/deployments/${made.id}`), 'deployment')) as Detail;
    if (d.finishedAt || ['paused', 'failed'].includes(d.state) || Date.now() > deadline) {
      const cpu = cpuSeconds(cc.proc.pid!) - cpu0;
      if (d.state !== 'succeeded') throw new Error(`deployment #${d.id} of ${nodePath} ${d.state} (${d.reason}): ${JSON.stringify(d.hosts.filter((h) => h.state !== 'updated').slice(0, 5))}`);
      return { t0, d, cpu };
    }
  }
}

function ask<T>(child: ChildProcess, kind: string, send?: object): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { t: string }) => {
      if (m.t !== kind) return;
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
    if (send) child.send(send);
  });
}

/**
 * The same client work as an agent's download: `n` at once of `curl | openssl dgst -sha256` (every
 * byte hashed, the digest checked), on the same cores as the server. Returns the seconds taken.
 */
async function curlHashed(url: string, token: string, n: number, sha256: string): Promise<number> {
  const t = performance.now();
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const p = spawn('sh', ['-c', 'curl -s -f -H "authorization: Bearer $TOKEN" "$URL" | openssl dgst -sha256 -r'], { env: { ...process.env, TOKEN: token, URL: url }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += String(d)));
      p.stderr.on('data', (d: Buffer) => (out += String(d)));
      p.once('close', (code) => (code === 0 && out.startsWith(sha256) ? resolve() : reject(new Error(`curl | openssl: ${code} ${out.slice(0, 200)}`))));
    });
  await Promise.all(Array.from({ length: n }, one));
  return (performance.now() - t) / 1000;
}

function curl(url: string, token: string, n: number): Promise<number> {
  const args = ['-s', '-f', '--parallel', '--parallel-max', String(n), '-H', `authorization: Bearer ${token}`];
  for (let i = 0; i < n; i++) args.push('-o', '/dev/null', url);
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn('curl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += String(d)));
    p.once('exit', (code) => (code === 0 ? resolve((performance.now() - t) / 1000) : reject(new Error(`curl exited ${code}: ${err}`))));
  });
}

/**
 * Per-batch figures of a finished deployment from what the agents saw; `oldOf` names each host's
 * task of the deployment before (its events are read from `ev`, as they are now: SHUTDOWN included).
 */
function batches(d: Detail, ev: Map<string, TaskEvents>, oldOf: Map<string, string>) {
  const by = d.batches.map((_, b) => d.hosts.filter((h) => h.batch === b).map((h) => ({ h, e: ev.get(h.taskId ?? '')!, old: ev.get(oldOf.get(h.hostname) ?? '') })));
  const gaps: number[] = [];
  const steps: number[] = [];
  for (let b = 0; b < by.length; b++) {
    for (const { e, old } of by[b]!) if (old?.shutdownSent !== undefined) steps.push(e.runAssigned! - old.shutdownSent);
    if (b === 0) continue;
    const lastUp = max(by[b - 1]!.map((x) => x.e.upSent!));
    // Batch k+1 begins with its first assignment: the old task's SHUTDOWN (stop-first), else the new one's RUNNING.
    gaps.push(min(by[b]!.map((x) => x.old?.shutdownAssigned ?? x.e.runAssigned!)) - lastUp);
  }
  const firstStart = min(by[0]!.map((x) => x.old?.shutdownAssigned ?? x.e.runAssigned!));
  const lastUp = max(by.at(-1)!.map((x) => x.e.upSent!));
  return { gaps: gaps.sort((a, b) => a - b), steps: steps.sort((a, b) => a - b), firstStart, lastUp, turnaround: by.flat().map((x) => x.e.upSent! - x.e.runAssigned!).sort((a, b) => a - b) };
}

async function run(backend: 'pglite' | 'postgres'): Promise<Record<string, string>> {
  const work = mkdtempSync(join(tmpdir(), 'canopy-deploy-bench-'));
  const base = process.env['CANOPY_TEST_DATABASE_URL'];
  const dbName = `canopy_bench_deploy_${process.pid}`;
  const admin = async (q: string) => {
    const c = new pg.Client({ connectionString: base });
    await c.connect();
    await c.query(q).finally(() => c.end());
  };
  let databaseUrl: string | undefined;
  if (backend === 'postgres') {
    await admin(`CREATE DATABASE ${dbName}`);
    const u = new URL(base!);
    u.pathname = `/${dbName}`;
    databaseUrl = u.toString();
  }
  let cc: ControlCenterProcess | undefined;
  let sims: ChildProcess[] = [];
  const out: Record<string, string> = { backend };
  try {
    cc = await startControlCenter({ host: '127.0.0.1', databaseUrl });
    const { creds, big } = await seed(cc, work);
    // The agents are spread over SIMS processes, as `curl | openssl` is over its own: one Node
    // process receiving and hashing for all of them would be the bottleneck, not the server.
    sims = Array.from({ length: SIMS }, (_, k) => {
      const file = join(work, `creds-${k}`);
      writeFileSync(file, creds.filter((_, i) => i % SIMS === k).map((c) => c.join(' ')).join('\n'), { mode: 0o600 });
      return fork(join(import.meta.dirname, 'deploy-agents.ts'), [cc!.url, file], { stdio: 'inherit' });
    });
    const conns = await Promise.all(sims.map((p) => ask<{ welcomed: number; failed: number }>(p, 'connected')));
    const welcomed = conns.reduce((n, c) => n + c.welcomed, 0);
    if (welcomed !== N) throw new Error(`${welcomed}/${N} sessions welcomed, ${conns.reduce((n, c) => n + c.failed, 0)} failed`);
    const all = (m: object) => sims.forEach((p) => p.send(m));
    const simsCpu = () => sims.reduce((n, p) => n + cpuSeconds(p.pid!), 0);
    await sleep(2000); // the connect burst's writes settle
    const report = () => Promise.all(sims.map((p) => ask<{ events: TaskEvents[]; pushErrors: number }>(p, 'events', { t: 'events' })));
    const events = async () => new Map((await report()).flatMap((r) => r.events).map((e) => [e.taskId, e]));

    // (a) The big artifact; CPU is also read the moment the last host's READY went out.
    all({ t: 'tick', ms: 100 });
    let readies = 0;
    let stagedCpu = NaN;
    let simCpuStaged = NaN;
    const cpuStart = { cc: cpuSeconds(cc.proc.pid!), sims: simsCpu() };
    const onReady = (m: { t: string }) => {
      if (m.t === 'ready' && ++readies === N) {
        stagedCpu = cpuSeconds(cc!.proc.pid!) - cpuStart.cc;
        simCpuStaged = simsCpu() - cpuStart.sims;
      }
    };
    for (const p of sims) p.on('message', onReady);
    const a = await deploy(cc, 'bench.big', '1.0.0', { batch: BATCH });
    for (const p of sims) p.off('message', onReady);
    const evA = [...(await events()).values()].filter((e) => e.service === 'bench.big');
    const gb = (N * big.size) / 1e9;
    const dlStart = min(evA.map((e) => e.dlStart!));
    const dlEnd = max(evA.map((e) => e.dlEnd!));
    const dlMbps = evA.reduce((n, e) => n + (e.bytes ?? 0), 0) / 1e6 / ((dlEnd - dlStart) / 1000);
    const cpuC = cpuSeconds(cc.proc.pid!);
    const curlS = await curl(`${cc.url}/api/v1/artifacts/bench.big/1.0.0`, creds[0]![1], N);
    const curlCpu = cpuSeconds(cc.proc.pid!) - cpuC;
    const curlMbps = (N * big.size) / 1e6 / curlS;
    const cpuH = cpuSeconds(cc.proc.pid!);
    const hashedS = await curlHashed(`${cc.url}/api/v1/artifacts/bench.big/1.0.0`, creds[0]![1], N, big.sha256);
    const hashedCpu = cpuSeconds(cc.proc.pid!) - cpuH;
    const hashedMbps = (N * big.size) / 1e6 / hashedS;
    Object.assign(out, {
      [`(a) ${MB} MB to ${N} agents, batches`]: `${a.d.batches.join('+')} (${BATCH})`,
      '(a) POST → every host staged (last READY sent)': s2(max(evA.map((e) => e.readySent!)) - a.t0),
      '(a) POST → first host told to start': s2(min(evA.map((e) => e.runAssigned!)) - a.t0),
      '(a) POST → succeeded (finishedAt)': s2(Date.parse(a.d.finishedAt!) - a.t0),
      '(a) control-center CPU: staging / whole deployment': `${stagedCpu.toFixed(2)} s / ${a.cpu.toFixed(2)} s (${(stagedCpu / gb).toFixed(2)} s per GB served)`,
      [`(a) simulated agents' CPU while staging (sha256 of every byte), ${SIMS} processes`]: `${simCpuStaged.toFixed(2)} s`,
      '(a) download: first start → last end, aggregate': `${s2(dlEnd - dlStart)}, **${dlMbps.toFixed(0)} MB/s**`,
      [`(a) curl --parallel-max ${N}, -o /dev/null, same URL (CPU per GB)`]: `${curlS.toFixed(2)} s, ${curlMbps.toFixed(0)} MB/s (${(curlCpu / gb).toFixed(2)} s)`,
      [`(a) ${N} × curl piped into openssl dgst -sha256 at once (the agent's work: every byte hashed; CPU per GB)`]: `${hashedS.toFixed(2)} s, ${hashedMbps.toFixed(0)} MB/s (${(hashedCpu / gb).toFixed(2)} s)`,
      '(a) deployment download vs curl -o /dev/null': `${((100 * dlMbps) / curlMbps).toFixed(0)} %`,
      '(a) deployment download vs curl piped into sha256, the same work (target ≥ 80 %)': `**${((100 * dlMbps) / hashedMbps).toFixed(0)} %**`,
    });

    // (b) Tiny artifact, batches of 10, agents answering at once: a first deployment, then a redeploy.
    all({ t: 'tick', ms: 0 });
    let previous = new Map<string, string>();
    for (const [label, version] of [['first deployment', '1.0.0'], ['stop-first redeploy', '2.0.0']] as const) {
      const b = await deploy(cc, 'bench.small', version, { batch: 10, delaySeconds: 0 });
      const ev = await events();
      const x = batches(b.d, ev, previous);
      previous = new Map(b.d.hosts.map((h) => [h.hostname, h.taskId!]));
      const fin = Date.parse(b.d.finishedAt!);
      const k = b.d.batches.length;
      Object.assign(out, {
        [`(b) ${label}: ${k} batches, POST → succeeded`]: s2(fin - b.t0),
        [`(b) ${label}: (succeeded − first start) / batches`]: ms((fin - x.firstStart) / k),
        [`(b) ${label}: last up of batch k → first assignment of k+1, p50 / p99 (target < 100 ms), n`]: `**${ms(percentile(x.gaps, 50))} / ${ms(percentile(x.gaps, 99))}**, n=${x.gaps.length}`,
        [`(b) ${label}: last host up → succeeded (finishedAt)`]: ms(fin - x.lastUp),
        [`(b) ${label}: agent turnaround (desired RUNNING in → up sent) p50`]: ms(percentile(x.turnaround, 50)),
        ...(x.steps.length ? { [`(b) ${label}: old task SHUTDOWN sent → new one's RUNNING in, p50 / p99`]: `${ms(percentile(x.steps, 50))} / ${ms(percentile(x.steps, 99))}` } : {}),
        [`(b) ${label}: control-center CPU`]: `${b.cpu.toFixed(2)} s`,
      });
    }
    const errs = (await report()).reduce((n, r) => n + r.pushErrors, 0);
    if (errs > 0) out['pushes refused'] = String(errs);
  } finally {
    await Promise.all(
      sims.filter((p) => p.exitCode === null).map(async (p) => {
        const gone = new Promise((r) => p.once('exit', r));
        p.send({ t: 'close' });
        await Promise.race([gone, sleep(5000).then(() => p.kill('SIGKILL'))]);
      }),
    );
    await cc?.stop();
    if (databaseUrl) await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
  return out;
}

const load0 = loadavg();
const results: Record<string, string>[] = [];
for (const backend of ['pglite', ...(process.env['CANOPY_TEST_DATABASE_URL'] ? ['postgres' as const] : [])] as const) {
  try {
    results.push(await run(backend));
  } catch (err) {
    console.error(`${backend}: ${(err as Error).stack ?? err}`);
    process.exitCode = 1;
  }
}
const keys = [...new Set(results.flatMap((r) => Object.keys(r)))].filter((k) => k !== 'backend');
console.log(`| deployments, ${N} simulated agents, one control-center process | ${results.map((r) => r['backend']).join(' | ')} |`);
console.log(`|---|${results.map(() => '---').join('|')}|`);
for (const k of keys) console.log(`| ${k} | ${results.map((r) => r[k] ?? '—').join(' | ')} |`);
console.log(`\nload average (1/5/15 min) before: ${load0.map((x) => x.toFixed(2)).join(' ')}, after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
