/**
 * The programs the discovery benchmark drives: an etcd 3.4 peer on loopback (temp data dir, free
 * ports, stopped by its pid), wrk for HTTP keep-alive load and dnsperf for DNS, with their output
 * parsed into numbers. Every program is spawned with an argv array, never through a shell.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Run a program to completion without blocking this process: the Canopy server under test shares
 * this event loop, so a synchronous spawn would stall it for the whole run.
 */
function run(bin: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The soft limit on open files of this process (what `ulimit -n` says in a child shell). */
export function openFilesLimit(): number {
  const out = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim();
  return out === 'unlimited' ? Infinity : Number(out) || 1024;
}

/**
 * Make sure this process may hold `need` open files: if the soft limit is lower, run this same
 * command again under `ulimit -n need` (possible up to the hard limit, or beyond it as root) and
 * exit with its status. Returns the limit in force when no re-run happened or raising failed.
 */
export function ensureOpenFiles(need: number): number {
  const limit = openFilesLimit();
  if (limit >= need || process.env['CANOPY_BENCH_ULIMIT_TRIED']) return limit;
  const r = spawnSync('sh', ['-c', `ulimit -n ${need} 2>/dev/null || exit 99; exec "$0" "$@"`, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, CANOPY_BENCH_ULIMIT_TRIED: '1' },
  });
  if (r.status !== 99) process.exit(r.status ?? 1);
  return limit;
}

/** Whether `bin` is on PATH. */
export function have(bin: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$0"', bin]).status === 0;
}

/** A TCP port nothing listens on right now (there is a small race; loopback benchmarks accept it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface Etcd {
  url: string;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
export { b64 };

/** POST a JSON body to etcd's gRPC gateway and return the parsed answer. */
export async function etcdCall(url: string, path: string, body: unknown): Promise<any> {
  const res = await fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/**
 * Start one etcd member on loopback. `--max-txn-ops` is raised only so seeding can put 1,000 keys
 * per transaction; nothing measured uses transactions.
 */
export async function startEtcd(): Promise<Etcd> {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-bench-etcd-'));
  const [client, peer] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const child: ChildProcess = spawn(
    'etcd',
    ['--name', 'bench', '--data-dir', join(dir, 'data'), '--listen-client-urls', url, '--advertise-client-urls', url, '--listen-peer-urls', peerUrl,
      '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `bench=${peerUrl}`, '--max-txn-ops', '1000', '--logger', 'zap', '--log-level', 'error'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const stop = async () => {
    if (child.exitCode === null && child.pid !== undefined) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(child.pid, 'SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    try {
      const h = await (await fetch(`${url}/health`)).json();
      if (h.health === 'true') {
        const v = await (await fetch(`${url}/version`)).json();
        return { url, pid: child.pid as number, version: v.etcdserver, stop };
      }
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`etcd did not start:\n${log}`);
}

export interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
}

/** Milliseconds from wrk's `1.23ms` / `456.00us` / `1.02s`. */
function ms(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

/** Run wrk with a Lua script against `url`; keep-alive is wrk's default. */
export async function runWrk(url: string, lua: string, o: { threads: number; connections: number; seconds: number }): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-bench-wrk-'));
  const script = join(dir, 'script.lua');
  writeFileSync(script, lua);
  try {
    const r = await run('wrk', ['-t', String(o.threads), '-c', String(o.connections), '-d', `${o.seconds}s`, '--latency', '-s', script, url]);
    if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
    const out = r.stdout;
    const pct = (p: string) => ms(new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? '');
    const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
    const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    const sockErrors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
    return {
      rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
      p50: pct('50'),
      p99: pct('99'),
      errors: non2xx + sockErrors,
      requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A Lua table literal of strings. */
export function luaStrings(items: string[]): string {
  return `{\n${items.map((s) => `  "${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',\n')}\n}`;
}

export interface DnsperfResult {
  qps: number;
  avgMs: number;
  lost: number;
  completed: number;
}

/** Run dnsperf over `queries` (`name TYPE` lines) against a UDP server on loopback. */
export async function runDnsperf(port: number, queries: string[], o: { seconds: number; clients: number; outstanding: number; edns: boolean }): Promise<DnsperfResult> {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-bench-dnsperf-'));
  const file = join(dir, 'queries.txt');
  writeFileSync(file, `${queries.join('\n')}\n`);
  try {
    const r = await run('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(o.seconds), '-c', String(o.clients), '-q', String(o.outstanding), '-t', '2', ...(o.edns ? ['-e'] : [])]);
    if (r.status !== 0) throw new Error(`dnsperf failed: ${r.stderr}${r.stdout}`);
    const out = r.stdout;
    return {
      qps: Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
      avgMs: Number(/Average Latency \(s\):\s+([\d.]+)/.exec(out)?.[1] ?? NaN) * 1000,
      lost: Number(/Queries lost:\s+(\d+)/.exec(out)?.[1] ?? NaN),
      completed: Number(/Queries completed:\s+(\d+)/.exec(out)?.[1] ?? NaN),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
