/**
 * The real nginx, run on generated files: `nginx -t` in an isolated prefix, and a live nginx on
 * loopback for tests. Everything is spawned with argv arrays; nothing goes through a shell.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { RenderedFile } from './model.ts';

const SBIN = ['/usr/sbin', '/usr/local/sbin', '/sbin', '/usr/local/nginx/sbin'];
const FILE_PATH = /^[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

/** Absolute path of an executable found on PATH or in the usual sbin directories, or null. */
export function findProgram(name: string): string | null {
  for (const dir of [...(process.env['PATH'] ?? '').split(':').filter(Boolean), ...SBIN]) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** Outcome of running a real program over a generated config. */
export interface ConfigCheck {
  ok: boolean;
  output: string;
  durationMs: number;
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** Writes the generated files under `prefix/conf` and a main nginx.conf whose `http {}` includes them in order. */
async function writePrefix(prefix: string, files: readonly RenderedFile[], main: string[]): Promise<void> {
  const q = (p: string) => JSON.stringify(p);
  const includes: string[] = [];
  for (const f of files) {
    if (!FILE_PATH.test(f.path)) throw new Error(`refusing file path '${f.path}'`);
    const target = join(prefix, 'conf', f.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, f.content);
    includes.push(`    include ${q(target)};`);
  }
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `    ${t}_temp_path ${q(join(prefix, 'tmp', t))};`);
  const conf = [
    ...main,
    'worker_processes 1;',
    `pid ${q(join(prefix, 'nginx.pid'))};`,
    `error_log ${q(join(prefix, 'error.log'))} notice;`,
    'events { worker_connections 256; }',
    'http {',
    ...temp,
    `    access_log ${q(join(prefix, 'access.log'))};`,
    ...includes,
    '}',
    '',
  ];
  await mkdir(join(prefix, 'tmp'), { recursive: true });
  await writeFile(join(prefix, 'nginx.conf'), conf.join('\n'));
}

async function newPrefix(): Promise<string> {
  const prefix = await mkdtemp(join(tmpdir(), 'canopy-nginx-'));
  // When the master runs as root its workers run as nobody and must reach the temp paths.
  await chmod(prefix, 0o755);
  return prefix;
}

const LISTEN = /^(\s*listen\s+(?:\S+:)?)(\d+)\b/gm;

/**
 * `nginx -t` binds the listen ports (it ignores only "address in use"), so a non-root checker
 * would fail on 80 and 443. Without root, ports below 1024 are renumbered above 40000 for the
 * check; each stays distinct, so ssl/plain consistency per port is still checked.
 */
function remapPrivilegedPorts(files: readonly RenderedFile[]): { files: RenderedFile[]; note: string } {
  const used = new Set(files.flatMap((f) => [...f.content.matchAll(LISTEN)].map((m) => Number(m[2]))));
  const map = new Map<number, number>();
  let next = 40000;
  for (const port of [...used].filter((p) => p < 1024).sort((a, b) => a - b)) {
    while (used.has(next)) next++;
    map.set(port, next++);
  }
  if (map.size === 0) return { files: [...files], note: '' };
  const remapped = files.map((f) => ({ ...f, content: f.content.replace(LISTEN, (_, head: string, port: string) => `${head}${map.get(Number(port)) ?? port}`) }));
  const pairs = [...map].map(([a, b]) => `${a}→${b}`).join(', ');
  return { files: remapped, note: `canopy: not root, so privileged ports were renumbered for nginx -t (${pairs})\n` };
}

const HAS_CERT = /^\s*ssl_certificate/m;
const CERT_DIRECTIVE = /^(\s*ssl_certificate(_key)?\s+)("(?:[^"\\]|\\.)*"|[^\s;]+)(\s*;)/gm;

/**
 * Certificates live on the nginx machines, not on the control center, so the control center's
 * check points every `ssl_certificate(_key)` at one stand-in pair: nginx still checks everything
 * else about the TLS servers, and the machine's own `nginx -t` checks the real files. Only the
 * checked copy changes; the published files keep the real paths.
 */
function standInCertificates(files: readonly RenderedFile[], pair: { certPath: string; keyPath: string }): { files: RenderedFile[]; note: string } {
  const real = new Set<string>();
  const out = files.map((f) => ({
    ...f,
    content: f.content.replace(CERT_DIRECTIVE, (_, head: string, key: string | undefined, path: string, tail: string) => {
      real.add(path.startsWith('"') ? path.slice(1, -1).replace(/\\(.)/g, '$1') : path);
      return `${head}${JSON.stringify(key === undefined ? pair.certPath : pair.keyPath)}${tail}`;
    }),
  }));
  if (real.size === 0) return { files: out, note: '' };
  const names = [...real].sort().join(', ');
  return { files: out, note: `canopy: certificates checked with a stand-in pair on the control center (${names} are read on each nginx machine, whose own nginx -t checks them)\n` };
}

let standIn: Promise<{ certPath: string; keyPath: string }> | undefined;

/**
 * The self-signed pair that stands in for real certificates in control-center checks: made once,
 * kept in a directory of this user's under the temp dir (a directory someone else made there is
 * not trusted: a fresh private one is used instead).
 */
export function standInCertificate(): Promise<{ certPath: string; keyPath: string }> {
  standIn ??= makeStandIn().catch((err: unknown) => {
    standIn = undefined;
    throw err;
  });
  return standIn;
}

async function makeStandIn(): Promise<{ certPath: string; keyPath: string }> {
  const uid = process.getuid?.() ?? -1;
  const dir = join(tmpdir(), `canopy-nginx-stand-in-${uid}`);
  const pair = { certPath: join(dir, 'cert.pem'), keyPath: join(dir, 'key.pem') };
  const ours = async () => {
    const st = await lstat(dir).catch(() => undefined);
    return st !== undefined && st.isDirectory() && (uid < 0 || st.uid === uid) && (st.mode & 0o077) === 0;
  };
  if ((await ours()) && (await stat(pair.certPath).catch(() => undefined)) && (await stat(pair.keyPath).catch(() => undefined))) return pair;
  const work = await mkdtemp(join(tmpdir(), 'canopy-nginx-stand-in-new-'));
  await createSelfSignedCert(work, ['stand-in.canopy.invalid'], 3650);
  // Another process may have won the race: then its pair is as good as ours.
  await rename(work, dir).catch(() => rm(work, { recursive: true, force: true }));
  if (await ours()) return pair;
  const own = await mkdtemp(join(tmpdir(), 'canopy-nginx-stand-in-own-'));
  return createSelfSignedCert(own, ['stand-in.canopy.invalid'], 3650);
}

/**
 * Runs `nginx -t` on the files inside a throw-away prefix. Relative log names land in that
 * prefix; certificates are replaced by a stand-in pair (see `standInCertificates`). Throws only
 * when nginx itself is missing.
 */
export async function checkNginxConfig(files: readonly RenderedFile[]): Promise<ConfigCheck> {
  const nginx = findProgram('nginx');
  if (nginx === null) throw new Error('nginx is not installed');
  const started = performance.now();
  const prefix = await newPrefix();
  try {
    const certs = files.some((f) => HAS_CERT.test(f.content)) ? standInCertificates(files, await standInCertificate()) : { files: [...files], note: '' };
    const checked = process.getuid?.() === 0 ? { files: certs.files, note: '' } : remapPrivilegedPorts(certs.files);
    await writePrefix(prefix, checked.files, []);
    const { code, output } = await run(nginx, ['-t', '-p', `${prefix}/`, '-c', join(prefix, 'nginx.conf'), '-e', 'stderr']);
    return { ok: code === 0, output: certs.note + checked.note + output, durationMs: performance.now() - started };
  } finally {
    await rm(prefix, { recursive: true, force: true });
  }
}

/** `n` ports that were free on 127.0.0.1 a moment ago. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** A running nginx started by `startNginx`. */
export interface RunningNginx {
  prefix: string;
  pid: number;
  /** Ports named by `listen` directives of the files it was started with. */
  ports: number[];
  /** Optionally replaces the files, sends SIGHUP, and resolves once new workers have started. */
  reload(files?: readonly RenderedFile[]): Promise<void>;
  /** Stops the master by its pid and removes the prefix. */
  stop(): Promise<void>;
  errorLog(): Promise<string>;
}

// Resolves once every pattern has appeared in the error log after byte `from`.
async function waitForLog(prefix: string, from: number, child: ChildProcess, what: string, patterns: RegExp[]): Promise<void> {
  const log = join(prefix, 'error.log');
  for (let i = 0; i < 1000; i++) {
    const text = (await readFile(log, 'utf8').catch(() => '')).slice(from);
    if (/\[emerg\]/.test(text)) throw new Error(`nginx ${what} failed:\n${text}`);
    if (patterns.every((p) => p.test(text))) return;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nginx exited during ${what}:\n${text}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`nginx ${what} did not finish within 10 s`);
}

/** Starts nginx in the foreground (`daemon off`) in its own prefix; the files should listen on loopback. */
export async function startNginx(files: readonly RenderedFile[]): Promise<RunningNginx> {
  const nginx = findProgram('nginx');
  if (nginx === null) throw new Error('nginx is not installed');
  const prefix = await newPrefix();
  await writePrefix(prefix, files, []);
  const errorLog = join(prefix, 'error.log');
  const child = spawn(nginx, ['-p', `${prefix}/`, '-c', join(prefix, 'nginx.conf'), '-e', errorLog, '-g', 'daemon off;'], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid as number, 'SIGTERM');
      const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(prefix, { recursive: true, force: true });
  };
  try {
    await waitForLog(prefix, 0, child, 'start', [/start worker process \d+/]);
  } catch (err) {
    await stop();
    throw err;
  }
  const ports = [...new Set(files.flatMap((f) => [...f.content.matchAll(/^\s*listen\s+(?:\S*:)?(\d+)\b/gm)].map((m) => Number(m[1]))))];
  return {
    prefix,
    pid: child.pid as number,
    ports: ports.sort((a, b) => a - b),
    async reload(next) {
      if (next !== undefined) await writePrefix(prefix, next, []);
      const from = (await stat(errorLog)).size;
      process.kill(child.pid as number, 'SIGHUP');
      // Old workers log "gracefully shutting down" once they have closed their listening sockets,
      // so a request sent after this resolves reaches a new worker.
      await waitForLog(prefix, from, child, 'reload', [/start worker process \d+/, /gracefully shutting down/]);
    },
    stop,
    errorLog: () => readFile(errorLog, 'utf8'),
  };
}

/** A throw-away self-signed certificate for `names` (first is the CN), made by `openssl req -x509`. */
export async function createSelfSignedCert(dir: string, names: readonly string[], days = 2): Promise<{ certPath: string; keyPath: string }> {
  const openssl = findProgram('openssl');
  if (openssl === null) throw new Error('openssl is not installed');
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  const san = names.map((n) => `DNS:${n}`).join(',');
  const { code, output } = await run(openssl, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', String(days),
    '-subj', `/CN=${names[0] ?? 'canopy.test'}`, '-addext', `subjectAltName=${san}`, '-keyout', keyPath, '-out', certPath,
  ]);
  if (code !== 0) throw new Error(`openssl failed:\n${output}`);
  return { certPath, keyPath };
}
