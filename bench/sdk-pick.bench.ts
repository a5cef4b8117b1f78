/**
 * Issue #3 speed: the SDK discovery client's `pick()` with 100 backends, for wrr and
 * consistent_hash; target < 1 µs per pick. The client resolves two services from a live server
 * (PGlite, HTTP on loopback) and holds their answers from the watch, so the figure is the real
 * cached path: the cache lookup, the service's balancer and the backend → instance map. The peer,
 * measured in the same run, is the bare `createBalancer(...).pick()` over the same backends: the
 * floor the SDK adds its bookkeeping to.
 * Run: node_modules/.bin/node bench/sdk-pick.bench.ts
 */
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { backendOf, createBalancer } from '../packages/core/src/index.ts';
import { createDiscoveryClient } from '../packages/sdk/src/index.ts';
import { startTestServer, testBackends, type TestServer } from '../packages/server/src/testing/index.ts';

const BACKENDS = 100;
const PICKS = 2_000_000;
const ROUNDS = 7;
const KEYS = Array.from({ length: 4096 }, (_, k) => `user-${(k * 7919) % 100_000}`);

async function call(s: TestServer, method: string, url: string, body: unknown): Promise<void> {
  const r = await s.call(method, url, body);
  if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${JSON.stringify(r.body)}`);
}

/** Two services over the same 100 machines, one per algorithm; weights 1-3. */
async function seed(s: TestServer): Promise<void> {
  await call(s, 'POST', '/api/v1/nodes', { parentPath: null, name: 'bench' });
  for (const [name, algorithm] of [['wrr', 'wrr'], ['chash', 'consistent_hash']] as const) {
    await call(s, 'POST', '/api/v1/nodes', { parentPath: 'bench', name });
    await call(s, 'PUT', `/api/v1/services/bench.${name}`, { ports: [{ name: 'http', port: 8080 }], lb: { algorithm } });
  }
  const machines = Array.from({ length: BACKENDS }, (_, k) => ({ hostname: `pick-${String(k).padStart(3, '0')}`, ips: [`10.42.${k >> 8}.${k & 255}`], nodes: ['bench.wrr', 'bench.chash'], status: 'online' }));
  await call(s, 'POST', '/api/v1/machines/import', machines);
  for (const m of machines) {
    for (const name of ['wrr', 'chash']) await call(s, 'PUT', `/api/v1/services/bench.${name}/instances/${m.hostname}/8080`, { weight: 1 + (Number(m.hostname.slice(5)) % 3) });
  }
}

const cpuNs = () => {
  const u = process.threadCpuUsage();
  return (u.user + u.system) * 1000;
};
const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1] as number;

/**
 * Median ns per call of `pick` over ROUNDS rounds of PICKS calls: this thread's CPU time (what a
 * pick costs, even on a shared, busy machine) and wall time.
 */
function nsPerPick(pick: (k: number) => unknown): { cpu: number; wall: number } {
  let sink = 0;
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const c = cpuNs();
    const t = process.hrtime.bigint();
    for (let k = 0; k < PICKS; k++) if (pick(k) !== undefined) sink++;
    wall.push(Number(process.hrtime.bigint() - t) / PICKS);
    cpu.push((cpuNs() - c) / PICKS);
  }
  if (sink === 0) throw new Error('no pick returned an instance');
  return { cpu: median(cpu), wall: median(wall) };
}

const s = await startTestServer(testBackends()[0]!);
try {
  await seed(s);
  await s.app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
  const client = createDiscoveryClient({ url, token: s.adminToken });
  const rows: string[] = [];
  for (const [path, algorithm] of [['bench.wrr', 'wrr'], ['bench.chash', 'consistent_hash']] as const) {
    const answer = await client.resolve(path);
    if (answer.instances.length !== BACKENDS) throw new Error(`${path}: ${answer.instances.length} instances`);
    const raw = createBalancer(algorithm, answer.instances.map((i) => backendOf(i.ip, i.port, i.weight)));
    const sdk = nsPerPick((k) => client.pick(path, KEYS[k & 4095]));
    const peer = nsPerPick((k) => raw.pick(KEYS[k & 4095]));
    rows.push(`| ${algorithm} | ${BACKENDS} | ${sdk.cpu.toFixed(0)} (${sdk.wall.toFixed(0)}) | ${peer.cpu.toFixed(0)} (${peer.wall.toFixed(0)}) | < 1000 | ${sdk.cpu < 1000 ? 'yes' : 'NO'} |`);
  }
  client.close();
  console.log(`SDK discovery client pick(), median of ${ROUNDS} rounds × ${PICKS.toLocaleString('en')} picks, keys cycling over ${KEYS.length}; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs\n`);
  console.log('| algorithm | backends | SDK pick() ns/op, CPU (wall) | peer: bare balancer ns/op, CPU (wall) | target ns | met |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
} finally {
  await s.close();
}
