/**
 * Issue 11, speed: the control center serving one artifact (BENCH_MB, default 50 MB) to
 * BENCH_CLIENTS (default 100) concurrent clients, next to curl fetching the same file from the
 * same server in the same run (`curl --parallel`, same concurrency). Target: ≥ 80 % of curl.
 *
 * The server runs in its own process (bench/artifact-server.ts); the Node clients in another
 * (bench/artifact-clients.ts), each on its own connection, bytes counted and dropped, like curl's
 * `-o /dev/null`. Rounds alternate (BENCH_ROUNDS, default 3) and the median is reported, with the
 * server's CPU time per GB served (from /proc). One more row: the agent's own library
 * (download + sha256 verify, to disk) for a single client, next to one curl writing to a file.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { downloadArtifact } from '../packages/agent/src/artifacts/index.ts';

const MB = Number(process.env['BENCH_MB'] ?? 50);
const CLIENTS = Number(process.env['BENCH_CLIENTS'] ?? 100);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const PASSWORD = 'bench-password-1';
const work = mkdtempSync(join(tmpdir(), 'canopy-artifact-bench-'));

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function call(port: number, method: string, path: string, body?: unknown, token?: string): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1${path}`, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

function upload(port: number, token: string, path: string, file: string, size: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'PUT', path: `/api/v1/artifacts/${path}`, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': size } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`upload: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    createReadStream(file).pipe(req);
  });
}

async function main(): Promise<void> {
  const server = spawn(process.execPath, [join(import.meta.dirname, 'artifact-server.ts')], { env: { ...process.env, BENCH_ARTIFACT_DIR: join(work, 'store'), BENCH_ADMIN_PASSWORD: PASSWORD }, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: server.stdout! }).once('line', resolve);
      server.once('exit', (c) => reject(new Error(`server exited ${c}`)));
    });
    const { port } = JSON.parse(line) as { port: number };
    const { token } = (await call(port, 'POST', '/auth/login', { username: 'admin', password: PASSWORD })) as { token: string };
    await call(port, 'POST', '/nodes', { parentPath: null, name: 'bench' }, token);
    await call(port, 'POST', '/nodes', { parentPath: 'bench', name: 'app' }, token);
    const size = MB * 1_000_000;
    const file = join(work, 'app.tar.gz');
    const body = randomBytes(size);
    writeFileSync(file, body);
    const sha256 = createHash('sha256').update(body).digest('hex');
    const t0 = performance.now();
    await upload(port, token, 'bench.app/1.0.0', file, size);
    const pushSeconds = (performance.now() - t0) / 1000;
    const url = `http://127.0.0.1:${port}/api/v1/artifacts/bench.app/1.0.0`;

    const nodeRound = () => {
      const r = spawnSync(process.execPath, [join(import.meta.dirname, 'artifact-clients.ts')], { env: { ...process.env, BENCH_URL: url, BENCH_TOKEN: token, BENCH_CLIENTS: String(CLIENTS) }, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`clients: ${r.stderr}`);
      return JSON.parse(r.stdout) as { bytes: number; seconds: number };
    };
    const curlRound = (n: number, out = '/dev/null') => {
      const args = ['-s', '-f', '--parallel', '--parallel-max', String(n), '-H', `authorization: Bearer ${token}`];
      for (let i = 0; i < n; i++) args.push('-o', out, url);
      const t = performance.now();
      const r = spawnSync('curl', args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`curl exited ${r.status}: ${r.stderr}`);
      return { bytes: n * size, seconds: (performance.now() - t) / 1000 };
    };
    const measure = (fn: () => { bytes: number; seconds: number }) => {
      const c0 = cpuSeconds(server.pid!);
      const r = fn();
      return { mbps: r.bytes / 1e6 / r.seconds, cpuPerGb: (cpuSeconds(server.pid!) - c0) / (r.bytes / 1e9), seconds: r.seconds };
    };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const canopy: ReturnType<typeof measure>[] = [];
    const curl: ReturnType<typeof measure>[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      if (i % 2 === 0) {
        canopy.push(measure(nodeRound));
        curl.push(measure(() => curlRound(CLIENTS)));
      } else {
        curl.push(measure(() => curlRound(CLIENTS)));
        canopy.push(measure(nodeRound));
      }
    }
    // One agent: the library a deployment uses (download to the cache, verify sha256), next to one curl to a file.
    const t1 = performance.now();
    const c1 = cpuSeconds(server.pid!);
    await downloadArtifact({ url, sha256, size, token }, { cacheDir: join(work, 'cache-agent') });
    const agentSeconds = (performance.now() - t1) / 1000;
    const agentCpu = cpuSeconds(server.pid!) - c1;
    const curlOne = measure(() => curlRound(1, join(work, 'curl-one.bin')));

    const m = (xs: ReturnType<typeof measure>[], k: 'mbps' | 'cpuPerGb') => median(xs.map((x) => x[k]));
    const ratio = (100 * m(canopy, 'mbps')) / m(curl, 'mbps');
    console.log(`${MB} MB artifact, ${CLIENTS} concurrent clients, median of ${ROUNDS} alternating rounds; push (upload + sha256 + store) took ${pushSeconds.toFixed(2)} s (${(MB / pushSeconds).toFixed(0)} MB/s)\n`);
    console.log('| client | concurrency | throughput | server CPU per GB served | vs curl |');
    console.log('|---|---|---|---|---|');
    console.log(`| Node clients (bench/artifact-clients.ts), bytes dropped | ${CLIENTS} | ${m(canopy, 'mbps').toFixed(0)} MB/s | ${m(canopy, 'cpuPerGb').toFixed(2)} s | **${ratio.toFixed(0)} %** |`);
    console.log(`| curl --parallel, -o /dev/null (peer) | ${CLIENTS} | ${m(curl, 'mbps').toFixed(0)} MB/s | ${m(curl, 'cpuPerGb').toFixed(2)} s | 100 % |`);
    console.log(`| agent library: download + sha256 verify, to disk | 1 | ${(MB / agentSeconds).toFixed(0)} MB/s | ${(agentCpu / (MB / 1000)).toFixed(2)} s | ${((100 * (MB / agentSeconds)) / curlOne.mbps).toFixed(0)} % |`);
    console.log(`| curl -o file (peer) | 1 | ${curlOne.mbps.toFixed(0)} MB/s | ${curlOne.cpuPerGb.toFixed(2)} s | 100 % |`);
    if (ratio < 80) console.log(`\nbelow the 80 % target (${ratio.toFixed(0)} %)`);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
