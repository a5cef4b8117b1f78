/**
 * Issue 11, speed: the process supervisor next to supervisord (Debian's `supervisor`) in the same
 * run. Each runs one program (`sh` writing its pid to a file, then `exec sleep`); the bench kills
 * it with -9 and times until the file names a new pid (polled every 0.5 ms, the same for both):
 * crash → restarted, p50/p99 over BENCH_ITER kills (default 30, 1.2 s apart so supervisord counts
 * each run as started). Canopy is measured twice: as the parent of the app (the exit event), and
 * after adopting a running app from a killed runner (as a restarted agent does; it polls /proc).
 * RSS is each supervisor process's VmRSS at the end.
 *
 *   flock /tmp/canopy-bench.lock node_modules/.bin/node bench/supervisor.bench.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fmt } from './stats.ts';

const ITER = Number(process.env['BENCH_ITER'] ?? 30);
const root = mkdtempSync(join(tmpdir(), 'supervisor-bench-'));

const readPid = (file: string): number | undefined => {
  try {
    const n = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
};

async function waitFor(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Kill the program ITER times; crash → new pid latencies in ms, sorted. */
async function crashes(pidFile: string): Promise<number[]> {
  const out: number[] = [];
  await waitFor('the program', () => readPid(pidFile) !== undefined);
  for (let i = 0; i < ITER; i++) {
    await sleep(1200);
    const old = readPid(pidFile)!;
    const t = process.hrtime.bigint();
    process.kill(old, 'SIGKILL');
    for (;;) {
      const now = readPid(pidFile);
      if (now !== undefined && now !== old) break;
      await new Promise((r) => setTimeout(r, 0.5));
    }
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out.sort((a, b) => a - b);
}

function version(): string {
  try {
    return readFileSync('/usr/lib/python3/dist-packages/supervisor/version.txt', 'utf8').trim();
  } catch {
    return '';
  }
}

const rssMb = (pid: number) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await done;
}

function runner(stateDir: string, pidFile: string): ChildProcess {
  return spawn(process.execPath, [join(import.meta.dirname, 'supervisor-runner.ts'), stateDir, pidFile], { stdio: ['ignore', 'pipe', 'inherit'] });
}

async function canopy(): Promise<{ parent: number[]; adopted: number[]; rss: number }> {
  const stateDir = join(root, 'canopy');
  const pidFile = join(root, 'canopy.pid');
  let r = runner(stateDir, pidFile);
  try {
    const parent = await crashes(pidFile);
    // A runner killed with -9 leaves the app running; the next one adopts it.
    const gone = new Promise((x) => r.once('exit', x));
    r.kill('SIGKILL');
    await gone;
    r = runner(stateDir, pidFile);
    await new Promise<void>((ok) => r.stdout!.once('data', () => ok()));
    const adopted = await crashes(pidFile);
    return { parent, adopted, rss: rssMb(r.pid!) };
  } finally {
    await stop(r);
  }
}

async function supervisord(): Promise<{ lat: number[]; rss: number } | undefined> {
  if (!existsSync('/usr/bin/supervisord')) {
    console.log('supervisord not installed (Debian package `supervisor`): its row is left out');
    return undefined;
  }
  const dir = join(root, 'supervisord');
  const pidFile = join(root, 'supervisord-app.pid');
  rmSync(dir, { recursive: true, force: true });
  const conf = join(root, 'supervisord.conf');
  mkdirSync(dir, { recursive: true });
  writeFileSync(conf, `[unix_http_server]
file=${dir}/supervisor.sock
[supervisord]
nodaemon=true
logfile=${dir}/supervisord.log
pidfile=${dir}/supervisord.pid
childlogdir=${dir}
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[program:app]
command=/bin/sh -c 'echo $$ > ${pidFile}.tmp && mv ${pidFile}.tmp ${pidFile} && exec sleep 100000'
autorestart=true
startsecs=1
stopasgroup=true
killasgroup=true
`);
  const p = spawn('/usr/bin/supervisord', ['-n', '-c', conf], { stdio: 'ignore' });
  try {
    const lat = await crashes(pidFile);
    return { lat, rss: rssMb(p.pid!) };
  } finally {
    await stop(p);
  }
}

try {
  const c = await canopy();
  const s = await supervisord();
  console.log(`\n### Supervisor: crash (kill -9) → restarted, ${ITER} kills each\n`);
  console.log('| supervisor | p50 / p99 ms | RSS MB |');
  console.log('|---|---|---|');
  console.log(`| Canopy supervisor, parent of the app (exit event) | ${fmt(c.parent)} | ${c.rss.toFixed(1)} |`);
  console.log(`| Canopy supervisor, after adopting the app (polls /proc every 200 ms) | ${fmt(c.adopted)} | (same process) |`);
  if (s) console.log(`| supervisord ${version()} | ${fmt(s.lat)} | ${s.rss.toFixed(1)} |`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
