/**
 * Issue 13, speed:
 *  1. sshd's AuthorizedKeysCommand answered from the agent's cache: the generated sh script run
 *     (fork + exec, as sshd does) for one account among BENCH_SSH_ACCOUNTS (default 10,000) answer
 *     files, p50/p99 (target p99 < 20 ms); peers measured the same way: `cat` of the answer file
 *     (the floor: one fork + exec) and a Node process printing it (why the command is not Node).
 *  2. A revoke reaching BENCH_SSH_AGENTS (default 1,000) simulated agents: sessions speaking the
 *     real protocol to an in-process control center on loopback (PGlite); the grant is deleted and
 *     each session's time to receive an `ssh` document without the user is recorded (target < 5 s
 *     for the last one). The clients share this process with the server, so the figure is an upper bound.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { AGENT_PROTOCOL, AGENT_SESSION_PATH, type ControlMessage, type SshDoc } from '../packages/core/src/index.ts';
import { newEd25519 } from '../packages/server/src/ssh/index.ts';
import { mkNodes, startTestServer, testBackends } from '../packages/server/src/testing/index.ts';
import { renderKeysCommand } from '../packages/agent/src/ssh/render.ts';
import { percentile, timeMany, fmt } from './stats.ts';

const ACCOUNTS = Number(process.env['BENCH_SSH_ACCOUNTS'] ?? 10_000);
const AGENTS = Number(process.env['BENCH_SSH_AGENTS'] ?? 1000);
const RUNS = Number(process.env['BENCH_SSH_RUNS'] ?? 500);

async function keysCommand(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-bench-ssh-'));
  mkdirSync(join(dir, 'keys'));
  mkdirSync(join(dir, 'glass'));
  const key = newEd25519('bench');
  for (let i = 0; i < ACCOUNTS; i++) writeFileSync(join(dir, 'keys', `u${i}`), `${key.publicKey}\n`);
  writeFileSync(join(dir, 'valid-until'), `${Math.floor(Date.now() / 1000) + 3600}\n`);
  writeFileSync(join(dir, 'keys-command'), renderKeysCommand(dir), { mode: 0o755 });
  const who = `u${Math.floor(ACCOUNTS / 2)}`;
  const cmd = await timeMany(RUNS, () => spawnSync(join(dir, 'keys-command'), [who, key.fingerprint]));
  const cat = await timeMany(RUNS, () => spawnSync('cat', [join(dir, 'keys', who)]));
  const node = await timeMany(Math.min(RUNS, 100), () => spawnSync(process.execPath, ['-e', `process.stdout.write(require('fs').readFileSync(${JSON.stringify(join(dir, 'keys', who))}))`]));
  console.log(`| AuthorizedKeysCommand (${ACCOUNTS} accounts cached), p50 / p99 ms | ${fmt(cmd)} |`);
  console.log(`| peer: \`cat\` of the answer (one fork + exec) | ${fmt(cat)} |`);
  console.log(`| peer: a Node process printing it | ${fmt(node)} |`);
  rmSync(dir, { recursive: true, force: true });
}

async function revokeReach(): Promise<void> {
  const s = await startTestServer(testBackends()[0]!, { ssh: { debounceMs: 20 }, agents: { heartbeatMs: 30_000 } });
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  const url = `ws://127.0.0.1:${(s.app.server.address() as AddressInfo).port}${AGENT_SESSION_PATH}`;
  await mkNodes(s, 'bench.ssh');
  await s.call('POST', '/api/v1/users', { username: 'benchdev', sshKeys: [newEd25519('d').publicKey] });
  const grant = (await s.call('POST', '/api/v1/grants', { user: 'benchdev', role: 'developer', nodePath: 'bench' })).body.id as number;
  const tokens: string[] = [];
  for (let i = 0; i < AGENTS; i++) {
    await s.call('POST', '/api/v1/machines', { hostname: `sim-${i}`, ips: [] });
    await s.call('PUT', `/api/v1/nodes/bench.ssh/machines/sim-${i}`);
    tokens.push((await s.call('POST', `/api/v1/machines/sim-${i}/credentials`, { name: 'bench' })).body.token as string);
  }
  const has = new Array<boolean>(AGENTS).fill(false);
  const gone = new Array<number>(AGENTS).fill(0);
  const sockets: WebSocket[] = [];
  const open = (i: number) =>
    new Promise<void>((resolve) => {
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${tokens[i]}` }, perMessageDeflate: false });
      sockets.push(ws);
      ws.on('open', () => ws.send(JSON.stringify({ t: 'hello', protocol: AGENT_PROTOCOL, agentVersion: 'sim', facts: { hostname: `sim-${i}`, ips: [], cpus: 1, memoryBytes: 1, disks: [], os: 'sim', kernel: 'sim', serial: null, macs: [], bootId: null, bootedAt: null }, tasks: [] })));
      ws.on('message', (d) => {
        const m = JSON.parse(String(d)) as ControlMessage;
        if (m.t !== 'doc' || m.name !== 'ssh') return;
        const present = (m.data as SshDoc).accounts.some((a) => a.name === 'benchdev');
        if (present) has[i] = true;
        else if (has[i] && gone[i] === 0) gone[i] = performance.now();
        resolve();
      });
      ws.on('error', () => resolve());
    });
  for (let i = 0; i < AGENTS; i += 50) await Promise.all(Array.from({ length: Math.min(50, AGENTS - i) }, (_, k) => open(i + k)));
  const held = has.filter(Boolean).length;
  const t0 = performance.now();
  await s.call('DELETE', `/api/v1/grants/${grant}`);
  while (gone.some((g, i) => has[i] && g === 0) && performance.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 5));
  const lat = gone.filter((g) => g > 0).map((g) => g - t0).sort((a, b) => a - b);
  console.log(`| revoke → ${lat.length}/${held} agents hold a document without the user: p50 / p99 / last ms | ${percentile(lat, 50).toFixed(0)} / ${percentile(lat, 99).toFixed(0)} / ${(lat.at(-1) ?? NaN).toFixed(0)} |`);
  for (const ws of sockets) ws.terminate();
  await s.close();
}

console.log('| measure | value |\n|---|---|');
await keysCommand();
await revokeReach();
