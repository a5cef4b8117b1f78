/** Test helpers: a control center listening on the test hosts' bridge, and agents run as real processes on test hosts. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestHost, TestServer } from '@canopy/server/testing';

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

export interface RunningAgent {
  host: TestHost;
  stateDir: string;
  proc: ChildProcess;
  log: string[];
  /** kill -9 and wait for the exit. */
  kill9(): Promise<void>;
  /** Start the agent again on the same state dir. */
  restart(): void;
  stop(): Promise<void>;
}

/** Start `canopy-agent run` on `host` against `url` with `token`. */
export function startAgent(host: TestHost, url: string, token: string, stateDir = mkdtempSync(join(tmpdir(), `agent-${host.hostname}-`))): RunningAgent {
  const log: string[] = [];
  const a: RunningAgent = {
    host,
    stateDir,
    proc: undefined as unknown as ChildProcess,
    log,
    async kill9() {
      const exited = new Promise((r) => a.proc.once('exit', r));
      a.proc.kill('SIGKILL');
      await exited;
    },
    restart() {
      a.proc = host.spawn([NODE, MAIN, 'run', '--url', url, '--token', token, '--state-dir', stateDir, '--hostname', host.hostname, '--insecure-http'], { stdio: ['ignore', 'pipe', 'pipe'] });
      for (const s of [a.proc.stdout, a.proc.stderr]) s?.on('data', (d: Buffer) => log.push(...String(d).trimEnd().split('\n')));
    },
    async stop() {
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
export async function enrollHosts(s: TestServer, hosts: TestHost[]): Promise<Map<string, { id: number; token: string }>> {
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
