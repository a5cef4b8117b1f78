/**
 * A real nginx on a test host for acceptance tests: its own temp prefix, a main config that
 * includes the directory the host's agent manages (plus machine-local lines), and the agent flags
 * that hand it to the agent.
 */
import { type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestHost } from '@canopy/server/testing';
import { until } from './testing.ts';

/** The nginx binary, if this machine has one. */
export const NGINX = ['/usr/sbin/nginx', '/usr/local/sbin/nginx'].find((p) => existsSync(p));

export interface TestNginx {
  proc: ChildProcess;
  prefix: string;
  includeDir: string;
  conf: string;
  pidFile: string;
}

/** Start nginx on `host` (`local`: extra lines inside `http {}`); resolves once it wrote its pid. */
export async function startNginx(host: TestHost, local = ''): Promise<TestNginx> {
  const prefix = mkdtempSync(join(tmpdir(), `canopy-${host.hostname}-nginx-`));
  chmodSync(prefix, 0o755); // workers run as nobody
  mkdirSync(join(prefix, 'tmp'));
  const includeDir = join(prefix, 'conf.d');
  mkdirSync(includeDir);
  const q = (p: string) => JSON.stringify(p);
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, [
    'worker_processes 1;',
    `pid ${q(join(prefix, 'nginx.pid'))};`,
    `error_log ${q(join(prefix, 'error.log'))} notice;`,
    'events { worker_connections 1024; }',
    'http {',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${q(join(prefix, 'tmp', t))};`),
    '  access_log off;',
    local,
    `  include ${q(join(includeDir, '*.conf'))};`,
    '}',
    '',
  ].join('\n'));
  const proc = host.spawn([NGINX!, '-p', `${prefix}/`, '-c', conf, '-e', join(prefix, 'error.log'), '-g', 'daemon off;'], { stdio: 'ignore' });
  await until(`nginx on ${host.hostname}`, () => existsSync(join(prefix, 'nginx.pid')), 10_000);
  return { proc, prefix, includeDir, conf, pidFile: join(prefix, 'nginx.pid') };
}

/** The agent flags that make `n` the nginx its `config` tasks manage. */
export const nginxAgentArgs = (n: TestNginx) => ['--nginx-conf', n.conf, '--nginx-include-dir', n.includeDir, '--nginx-bin', NGINX!, '--nginx-pid', n.pidFile];

/**
 * Whether every worker of `n` runs its newest configuration: after a reload, old workers finish the
 * connections they accepted under the previous one, titled "worker process is shutting down".
 */
export function noOldWorkers(n: TestNginx): boolean {
  const master = Number(readFileSync(n.pidFile, 'utf8').trim());
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === master && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('shutting down')) return false;
    } catch {
      // gone while we looked
    }
  }
  return true;
}

/** SIGTERM a child and wait for its exit (nothing if it has ended). */
export async function stopProc(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await exited;
}
