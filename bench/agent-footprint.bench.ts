/**
 * Issue 10, speed: one agent's footprint. A real `canopy-agent run` process on a test host, connected
 * to a control center (PGlite, in this process, default 5 s heartbeat), left idle: after a settle
 * of 10 s, its CPU over 60 s (utime + stime from /proc/PID/stat, as a share of one core) and its
 * resident memory (VmRSS now, VmHWM its peak, from /proc/PID/status). Targets: < 80 MB, < 0.5 %.
 * Measured twice: the one-file bundle install.sh installs (what runs on a machine), and the agent
 * run from its TypeScript sources (as the tests run it: Node's type stripping costs ~20 MB).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { canMakeTestHosts, createTestHosts, startTestServer, testBackends, type TestHost, type TestServer as BaseServer } from '../packages/server/src/testing/index.ts';
import { agentBundle } from '../packages/agent/src/install/bundle.ts';

type TestServer = BaseServer & { url: string };
import { enrollHosts, startAgent, until } from '../packages/agent/src/testing.ts';

const SETTLE_S = 10;
const IDLE_S = Number(process.env['BENCH_IDLE_SECONDS'] ?? 60);
const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** utime + stime of `pid`, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}

/** A `/proc/PID/status` field in MB. */
function statusMb(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN) / 1024;
}

/** Idle `main`'s agent on the host for IDLE_S seconds; its figures as table cells. */
async function measure(s: TestServer, host: TestHost, token: string, machineId: number, main: string): Promise<Record<string, string>> {
  const agent = startAgent(host, s.url, token, undefined, { main });
  try {
    await until('the agent connected', () => s.services.dispatcher.connectedHere(machineId), 60_000);
    const pid = agent.proc.pid!;
    await sleep(SETTLE_S * 1000);
    const cpu0 = cpuSeconds(pid);
    const t0 = process.hrtime.bigint();
    const rss: number[] = [];
    for (let i = 0; i < IDLE_S; i++) {
      await sleep(1000);
      rss.push(statusMb(pid, 'VmRSS'));
    }
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    return {
      'RSS at the end (VmRSS), target < 80 MB': `${rss.at(-1)!.toFixed(1)} MB`,
      'RSS, largest 1 s sample': `${Math.max(...rss).toFixed(1)} MB`,
      'peak RSS since start (VmHWM)': `${statusMb(pid, 'VmHWM').toFixed(1)} MB`,
      'CPU, share of one core, target < 0.5 %': `${(((cpuSeconds(pid) - cpu0) / wall) * 100).toFixed(3)} %`,
      'still connected at the end': String(s.services.dispatcher.connectedHere(machineId)),
    };
  } finally {
    await agent.stop();
  }
}

const noHosts = canMakeTestHosts();
if (noHosts) {
  console.log(`SKIPPED: ${noHosts}`);
  process.exit(0);
}
const hosts = createTestHosts(1, 'footprint');
const server = await startTestServer(testBackends()[0]!);
const dir = mkdtempSync(join(tmpdir(), 'canopy-footprint-'));
try {
  await server.app.listen({ host: hosts.gateway, port: 0 });
  const s = Object.assign(server, { url: `http://${hosts.gateway}:${(server.app.server.address() as { port: number }).port}` });
  const host = hosts.hosts[0]!;
  const cred = (await enrollHosts(s, [host])).get(host.hostname)!;
  // As installed by install.sh: the one-file bundle the control center serves.
  const bundle = join(dir, 'canopy-agent.mjs');
  writeFileSync(bundle, (await agentBundle()).code);
  const results = {
    'bundled (as installed)': await measure(s, host, cred.token, cred.id, bundle),
    'from source (type stripping)': await measure(s, host, cred.token, cred.id, join(import.meta.dirname, '../packages/agent/src/main.ts')),
  };
  console.log(`| one idle agent, ${IDLE_S} s, heartbeat ${s.services.dispatcher.heartbeatMs} ms | ${Object.keys(results).join(' | ')} |`);
  console.log(`|---|${Object.keys(results).map(() => '---').join('|')}|`);
  for (const k of Object.keys(Object.values(results)[0]!)) console.log(`| ${k} | ${Object.values(results).map((r) => r[k]).join(' | ')} |`);
} finally {
  await server.close();
  hosts.close();
  rmSync(dir, { recursive: true, force: true });
}
