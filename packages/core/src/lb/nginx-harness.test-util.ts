/**
 * Test-only helper: runs a real nginx on loopback in a temp prefix with one listener per backend
 * (each answering its own port) and a front server proxying `/<upstream>` to each upstream, so tests
 * can read which backend nginx chose. Not exported from the package.
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nginxServerAddress } from './backends.ts';
import type { Backend } from './types.ts';

/** One `upstream` block: its backends in order plus extra directives such as `hash $arg_key consistent`. */
export interface UpstreamSpec {
  name: string;
  directives: string[];
  backends: Backend[];
}

/** A started nginx; `get` fetches a path on the front server and returns the body. */
export interface RunningNginx {
  frontPort: number;
  get(path: string): Promise<string>;
  stop(): Promise<void>;
}

/** Path of the nginx binary, or undefined when it is not installed. */
export function findNginx(): string | undefined {
  for (const candidate of ['nginx', '/usr/sbin/nginx', '/usr/local/sbin/nginx']) {
    const r = spawnSync(candidate, ['-v'], { encoding: 'utf8' });
    if (r.status === 0) return candidate;
  }
  return undefined;
}

/** `count` loopback ports that were free a moment ago. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    if (a === null || typeof a === 'string') throw new Error('no port');
    return a.port;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function renderConfig(dir: string, frontPort: number, upstreams: UpstreamSpec[]): string {
  const ports = new Set(upstreams.flatMap((u) => u.backends.filter((b) => b.down !== true).map((b) => b.port)));
  const backendServers = [...ports].map(
    (p) => `  server { listen 127.0.0.1:${p}; location / { return 200 "$server_port"; } }`,
  );
  const upstreamBlocks = upstreams.map((u) => {
    const servers = u.backends.map(
      (b) => `    server ${nginxServerAddress(b)}${b.weight === 1 ? '' : ` weight=${b.weight}`}${b.down === true ? ' down' : ''};`,
    );
    return [`  upstream ${u.name} {`, ...u.directives.map((d) => `    ${d};`), ...servers, '  }'].join('\n');
  });
  const locations = upstreams.map((u) => `    location /${u.name} { proxy_pass http://${u.name}; }`);
  return `worker_processes 1;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
${upstreamBlocks.join('\n')}
${backendServers.join('\n')}
  server {
    listen 127.0.0.1:${frontPort};
    location = /ready { return 200 "ready"; }
${locations.join('\n')}
  }
}
`;
}

async function waitReady(url: string, child: ChildProcess, dir: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const log = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '(no error.log)');
  throw new Error(`nginx did not become ready:\n${log}`);
}

/** Starts a fresh nginx (one worker, so round-robin state is one sequence) serving `upstreams`. */
export async function startNginx(binary: string, upstreams: UpstreamSpec[]): Promise<RunningNginx> {
  const dir = await mkdtemp(join(tmpdir(), 'canopy-lb-nginx-'));
  const [frontPort] = await freePorts(1);
  if (frontPort === undefined) throw new Error('no free port');
  const conf = join(dir, 'nginx.conf');
  await mkdir(join(dir, 'tmp'));
  await writeFile(conf, renderConfig(dir, frontPort, upstreams));
  const child = spawn(binary, ['-p', dir, '-e', join(dir, 'error.log'), '-c', conf, '-g', `daemon off; pid ${dir}/nginx.pid;`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(`http://127.0.0.1:${frontPort}/ready`, child, dir);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    frontPort,
    async get(path) {
      const res = await fetch(`http://127.0.0.1:${frontPort}${path}`);
      const body = await res.text();
      if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${body}`);
      return body;
    },
    stop,
  };
}
