/** Test helpers: a control center listening on the test hosts' bridge, and agents run as real processes on test hosts. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestHosts, startTestServer, type TestBackend, type TestHost, type TestHosts, type TestServer } from '@canopy/server/testing';

const NODE = process.execPath;
const MAIN = join(import.meta.dirname, 'main.ts');

/** Wait until `check` holds, polling; fails after `ms` with `what`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/**
 * This machine as a test host: an agent on it runs in the root namespace and reaches a server on
 * loopback (browser tests, whose console listens on 127.0.0.1). It has no link of its own to cut.
 */
export function localHost(hostname: string, index = 0): TestHost {
  return {
    index,
    hostname,
    address: '127.0.0.1',
    netns: '',
    spawn: (argv, opts = {}) => spawn(argv[0]!, argv.slice(1), opts),
    run: () => {
      throw new Error('a local test host runs agents only (spawn)');
    },
    setLink: () => {
      throw new Error('a local test host has no link of its own');
    },
  };
}

export interface RunningAgent {
  host: TestHost;
  stateDir: string;
  proc: ChildProcess;
  log: string[];
  /** kill -9 and wait for the exit. */
  kill9(): Promise<void>;
  /** Start the agent again on the same state dir. */
  restart(): void;
  /** How many times it was started again after exiting by itself (`restartOnExitMs`). */
  readonly restarts: number;
  stop(): Promise<void>;
}

export interface StartAgentOptions {
  /** More `canopy-agent run` flags (`--boot-id-file`, `--reboot-command`…). */
  args?: string[];
  /** Start the agent again this many ms after it exits by itself, as systemd would on boot (not after kill9 or stop). */
  restartOnExitMs?: number;
  /** The agent's entry: `main.ts` (from source) by default, or a bundled `.mjs` as the install script installs it. */
  main?: string;
}

/** Start `canopy-agent run` on `host` against `url` with `token`. */
export function startAgent(host: TestHost, url: string, token: string, stateDir = mkdtempSync(join(tmpdir(), `agent-${host.hostname}-`)), opts: StartAgentOptions = {}): RunningAgent {
  const log: string[] = [];
  let expectExit = false;
  let restarts = 0;
  let again: NodeJS.Timeout | undefined;
  const a: RunningAgent = {
    host,
    stateDir,
    proc: undefined as unknown as ChildProcess,
    log,
    get restarts() {
      return restarts;
    },
    async kill9() {
      const exited = new Promise((r) => a.proc.once('exit', r));
      expectExit = true;
      a.proc.kill('SIGKILL');
      await exited;
    },
    restart() {
      expectExit = false;
      const proc = host.spawn([NODE, opts.main ?? MAIN, 'run', '--url', url, '--token', token, '--state-dir', stateDir, '--hostname', host.hostname, '--insecure-http', ...(opts.args ?? [])], { stdio: ['ignore', 'pipe', 'pipe'] });
      a.proc = proc;
      for (const s of [proc.stdout, proc.stderr]) s?.on('data', (d: Buffer) => log.push(...String(d).trimEnd().split('\n')));
      if (opts.restartOnExitMs !== undefined) {
        proc.once('exit', (code, signal) => {
          if (expectExit || a.proc !== proc) return;
          log.push(`--- agent exited (${signal ?? code}); starting it again in ${opts.restartOnExitMs} ms`);
          again = setTimeout(() => {
            restarts++;
            a.restart();
          }, opts.restartOnExitMs);
        });
      }
    },
    async stop() {
      clearTimeout(again);
      expectExit = true;
      if (a.proc.exitCode === null && a.proc.signalCode === null) {
        const exited = new Promise((r) => a.proc.once('exit', r));
        a.proc.kill('SIGTERM');
        await exited;
      }
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  a.restart();
  return a;
}

/** Make machines for `hosts` and issue each a credential; returns hostname → {id, token}. */
export async function enrollHosts(s: Pick<ControlCenterProcess, 'call'> | TestServer, hosts: TestHost[]): Promise<Map<string, { id: number; token: string }>> {
  const out = new Map<string, { id: number; token: string }>();
  for (const h of hosts) {
    const m = await s.call('POST', '/api/v1/machines', { hostname: h.hostname, ips: [h.address], status: 'online' });
    if (m.status !== 201) throw new Error(`machine ${h.hostname}: ${m.status} ${JSON.stringify(m.body)}`);
    const c = await s.call('POST', `/api/v1/machines/${h.hostname}/credentials`, { name: 'agent' });
    if (c.status !== 201) throw new Error(`credential ${h.hostname}: ${c.status} ${JSON.stringify(c.body)}`);
    out.set(h.hostname, { id: m.body.id as number, token: c.body.token as string });
  }
  return out;
}

/** A suite's control center, its test hosts and one running agent per host. */
export interface Fleet {
  s: TestServer;
  hosts: TestHosts;
  /** Where the agents reach the control center (the hosts' gateway). */
  url: string;
  creds: Map<string, { id: number; token: string }>;
  agents: RunningAgent[];
  /** Stop the agents, the server and the hosts, in that order. */
  close(): Promise<void>;
}

/**
 * Start a control center on `backend` listening on `count` new test hosts, enroll a machine for
 * each, start its agent (`agent(host, i)` adds flags) and wait until every one is connected.
 */
export async function startFleet(opts: {
  backend: TestBackend;
  count: number;
  name: string;
  server?: Parameters<typeof startTestServer>[1];
  agent?: (host: TestHost, index: number) => StartAgentOptions;
  /** Start what the agents are handed (an nginx, say) once the hosts exist. */
  beforeAgents?: (hosts: TestHosts) => Promise<void>;
}): Promise<Fleet> {
  const hosts = createTestHosts(opts.count, opts.name);
  const agents: RunningAgent[] = [];
  let s: TestServer | undefined;
  const close = async () => {
    for (const a of agents) await a.stop();
    await s?.close();
    hosts.close();
  };
  try {
    s = await startTestServer(opts.backend, opts.server);
    await s.app.listen({ host: hosts.gateway, port: 0 });
    const url = `http://${hosts.gateway}:${(s.app.server.address() as AddressInfo).port}`;
    const creds = await enrollHosts(s, hosts.hosts);
    await opts.beforeAgents?.(hosts);
    for (const [i, h] of hosts.hosts.entries()) agents.push(startAgent(h, url, creds.get(h.hostname)!.token, undefined, opts.agent?.(h, i)));
    const server = s;
    await until('every agent connected', () => hosts.hosts.every((h) => server.services.dispatcher.connectedHere(creds.get(h.hostname)!.id)), 120_000);
    return { s, hosts, url, creds, agents, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** A TCP port free on `host` just now. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const SERVER_MAIN = join(import.meta.dirname, '../../server/src/main.ts');
/** The admin password a control center started by `startControlCenter` is given. */
export const CC_ADMIN_PASSWORD = 'cc-admin-password-1';

export interface ControlCenterProcess {
  /** `http://host:port`, the same across restarts. */
  url: string;
  proc: ChildProcess;
  log: string[];
  /** An admin bearer token (logged in at start; sessions live in the database, so they survive a restart). */
  token: string;
  /** Call the API as the admin: JSON in, parsed JSON out. */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** kill -9 and wait for the exit. */
  kill9(): Promise<void>;
  /** Start it again on the same data and port; resolves once it listens. */
  restart(): Promise<void>;
  /** SIGTERM and wait; removes the data dir it made. */
  stop(): Promise<void>;
}

/**
 * Run the control center as its own process (`npm start`'s entry) listening on `host`: PGlite in a
 * temp data dir (or `dataDir`), or PostgreSQL at `databaseUrl`. `env` adds settings (CANOPY_*); `adminPassword`
 * must be the admin's when the database already has one.
 */
export async function startControlCenter(opts: { host: string; databaseUrl?: string | undefined; dataDir?: string; adminPassword?: string; env?: Record<string, string> }): Promise<ControlCenterProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'canopy-cc-'));
  // A port of our own choosing: the server prints the configured one, and a restart must reuse it.
  const port = await freePort(opts.host);
  const password = opts.adminPassword ?? CC_ADMIN_PASSWORD;
  const log: string[] = [];
  const launch = async () => {
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      CANOPY_HOST: opts.host, CANOPY_PORT: String(port), CANOPY_DATA_DIR: dataDir, CANOPY_ADMIN_PASSWORD: password,
      CANOPY_ACCESS_LOG: 'false', CANOPY_LOG_LEVEL: 'warn', ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}), ...opts.env,
    };
    cc.proc = spawn(NODE, [SERVER_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((r) => cc.proc.once('exit', r));
    await new Promise<void>((resolve, reject) => {
      for (const s of [cc.proc.stdout, cc.proc.stderr]) {
        s?.on('data', (d: Buffer) => {
          const lines = String(d).trimEnd().split('\n');
          log.push(...lines);
          if (lines.some((l) => l.startsWith('Canopy listening on'))) resolve();
        });
      }
      void exited.then((code) => reject(new Error(`control center exited ${code} before listening:\n${log.slice(-30).join('\n')}`)));
    });
    cc.url = `http://${opts.host}:${port}`;
  };
  const cc: ControlCenterProcess = {
    url: '',
    proc: undefined as unknown as ChildProcess,
    log,
    token: '',
    async call(method, path, body) {
      const res = await fetch(`${cc.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${cc.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async kill9() {
      const exited = new Promise((r) => cc.proc.once('exit', r));
      cc.proc.kill('SIGKILL');
      await exited;
    },
    restart: launch,
    async stop() {
      if (cc.proc.exitCode === null && cc.proc.signalCode === null) {
        const exited = new Promise((r) => cc.proc.once('exit', r));
        cc.proc.kill('SIGTERM');
        await exited;
      }
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    await launch();
  } catch (err) {
    await cc.stop();
    throw err;
  }
  const login = await fetch(`${cc.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
  if (login.status !== 200) {
    await cc.stop();
    throw new Error(`login: ${login.status} ${await login.text()}`);
  }
  cc.token = ((await login.json()) as { token: string }).token;
  return cc;
}


/** Run `argv` on `host` to its end without blocking the event loop (the control center may be in this process). */
export function runOn(host: TestHost, argv: string[], opts: { input?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = host.spawn(argv, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout?.on('data', (d: Buffer) => (stdout += String(d)));
    p.stderr?.on('data', (d: Buffer) => (stderr += String(d)));
    p.once('error', reject);
    p.once('close', (code) => resolve({ code, stdout, stderr }));
    if (opts.input !== undefined) p.stdin?.end(opts.input);
  });
}
