/**
 * Issue #4 speed: the Puppet ENC with 10,000 nodes and 100,000 machines.
 *
 * Seeding: set-based SQL straight into the tables (nodes, machines, machine_nodes, node_puppet),
 * then the read models are reloaded from the database as a restart would (tree, machines, ENC).
 * The catalog and default classes go through the API. Every 20th machine sits in a second node;
 * half of those nodes disagree on classes, so those hosts take the default-classes path.
 *
 * Measured:
 *  - resolution in the server, calling the service: the YAML path Puppet uses (memoised per
 *    distinct answer), the full answer + render without the memo, and with every cache dropped
 *    before each call (the worst case, right after a tree change);
 *  - GET /api/v1/enc/{host} through the HTTP stack: app.inject, and a real loopback listen + fetch;
 *  - `canopy enc HOST` wall time per call (the standalone entry Puppet runs, and the full CLI),
 *    next to a bare `node -e ''` start-up as the peer: the floor any Node CLI pays.
 *
 * Run: node_modules/.bin/node bench/enc.bench.ts   (PGlite; the answer comes from memory either way)
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { renderEncYaml } from '../packages/server/src/enc/index.ts';
import { startTestServer, testBackends, type TestServer } from '../packages/server/src/testing/index.ts';
import { fmt, percentile, timeMany } from './stats.ts';

const BUS = 10;
const DEPTS = 100; // per BU → 1,000 depts
const SERVICES = 9; // per dept → 9,000 services
const MACHINES = 100_000;
const ROLES = 50;
const ROOT = join(import.meta.dirname, '..');
const NODE = join(ROOT, 'node_modules/.bin/node');

async function seed(s: TestServer): Promise<void> {
  const db = s.database.db;
  const catalog = ['base', 'profile::dept', ...Array.from({ length: ROLES }, (_, i) => `role::r${i}`)];
  if ((await s.call('PUT', '/api/v1/puppet/classes', catalog)).status !== 200) throw new Error('catalog');
  if ((await s.call('PUT', '/api/v1/puppet/defaults', { classes: { base: { minimal: true } } })).status !== 200) throw new Error('defaults');
  await db.transaction(async (tx) => {
    await tx.execute(sql`INSERT INTO nodes (parent_id, name, path) VALUES (NULL, 'corp', 'corp')`);
    await tx.execute(sql`INSERT INTO nodes (parent_id, name, path)
      SELECT p.id, 'bu' || g, 'corp.bu' || g FROM nodes p, generate_series(0, ${BUS - 1}) g WHERE p.path = 'corp'`);
    await tx.execute(sql`INSERT INTO nodes (parent_id, name, path)
      SELECT p.id, 'dept' || g, p.path || '.dept' || g FROM nodes p, generate_series(0, ${DEPTS - 1}) g WHERE p.parent_id = (SELECT id FROM nodes WHERE path = 'corp')`);
    await tx.execute(sql`INSERT INTO nodes (parent_id, name, path)
      SELECT p.id, 'svc' || g, p.path || '.svc' || g FROM nodes p, generate_series(0, ${SERVICES - 1}) g WHERE p.name LIKE 'dept%'`);
    await tx.execute(sql`INSERT INTO machines (hostname, zone, idc, status)
      SELECT 'host' || lpad(g::text, 6, '0') || '.example', 'z' || (g % 3), 'idc' || (g % 2), 'online' FROM generate_series(0, ${MACHINES - 1}) g`);
    // svc k is the k-th service node; machine m sits in svc (m mod 9000), every 20th also in the next one.
    await tx.execute(sql`CREATE TEMP TABLE svc ON COMMIT DROP AS SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM nodes WHERE name LIKE 'svc%'`);
    await tx.execute(sql`INSERT INTO machine_nodes (machine_id, node_id)
      SELECT m.id, svc.id FROM machines m JOIN svc ON svc.k = m.id % ${BUS * DEPTS * SERVICES}`);
    await tx.execute(sql`INSERT INTO machine_nodes (machine_id, node_id)
      SELECT m.id, svc.id FROM machines m JOIN svc ON svc.k = (m.id + 1) % ${BUS * DEPTS * SERVICES} WHERE m.id % 20 = 0`);
    // The root sets the base class and shared parameters; BUs add a parameter; depts set classes;
    // every third service sets its own role (so neighbours often disagree), the rest inherit.
    await tx.execute(sql`INSERT INTO node_puppet (node_id, classes, parameters, environment)
      SELECT id, '{"base": {}}', '{"ntp": "pool.ntp.org", "dns": ["10.0.0.1", "10.0.0.2"], "motd": "managed by \\"canopy\\": yes"}', 'production' FROM nodes WHERE path = 'corp'`);
    await tx.execute(sql`INSERT INTO node_puppet (node_id, parameters) SELECT id, jsonb_build_object('bu', name) FROM nodes WHERE name LIKE 'bu%'`);
    await tx.execute(sql`INSERT INTO node_puppet (node_id, classes, parameters)
      SELECT id, jsonb_build_object('base', '{}'::jsonb, 'profile::dept', jsonb_build_object('team', name, 'limits', jsonb_build_object('cpu', 4, 'mem', '8G'))), jsonb_build_object('dept', name)
      FROM nodes WHERE name LIKE 'dept%'`);
    await tx.execute(sql`INSERT INTO node_puppet (node_id, classes, parameters)
      SELECT id, jsonb_build_object('base', '{}'::jsonb, 'role::r' || (k % ${ROLES}), jsonb_build_object('port', 8000 + k % 1000)), jsonb_build_object('service', 'svc' || k)
      FROM svc WHERE k % 3 = 0`);
  });
  await db.execute(sql`ANALYZE`);
  await s.services.tree.load(db);
  await s.services.machines.load(db);
  await s.services.enc.load(db);
}

// Wall time of one run, and its CPU time (user + sys) when /usr/bin/time can report it: on a busy
// machine the wall time mostly measures the wait for a core, the CPU time what the call costs.
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

function spawnTimed(args: string[], env: NodeJS.ProcessEnv): Promise<{ wall: number; cpu: number }> {
  const t = process.hrtime.bigint();
  const [cmd, argv] = TIME ? [TIME, ['-f', 'CPU %U %S', NODE, ...args]] : [NODE, args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - t) / 1e6;
      if (code !== 0) return reject(new Error(`${args.join(' ')}: exit ${code}: ${err}`));
      const m = /CPU ([\d.]+) ([\d.]+)/.exec(err);
      resolve({ wall, cpu: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN });
    });
  });
}

async function timedMany(n: number, args: (i: number) => string[], env: NodeJS.ProcessEnv): Promise<string> {
  await spawnTimed(args(0), env); // warms the compile cache, as every later Puppet run finds it
  const runs: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < n; i++) runs.push(await spawnTimed(args(i), env));
  const wall = runs.map((r) => r.wall).sort((a, b) => a - b);
  const cpu = runs.map((r) => r.cpu).sort((a, b) => a - b);
  const cpuText = Number.isNaN(percentile(cpu, 50)) ? '' : `; CPU ${percentile(cpu, 50).toFixed(0)}`;
  return `${percentile(wall, 50).toFixed(0)} (p90 ${percentile(wall, 90).toFixed(0)})${cpuText}`;
}

const host = (i: number) => `host${String((i * 7919) % MACHINES).padStart(6, '0')}.example`;

async function run(s: TestServer): Promise<Record<string, string>> {
  const t0 = Date.now();
  await seed(s);
  const out: Record<string, string> = {
    backend: s.backend,
    'seed + reload (s)': ((Date.now() - t0) / 1000).toFixed(1),
    'nodes / machines': `${s.services.tree.model.size()} / ${s.services.machines.model.size()}`,
  };
  const enc = s.services.enc;
  const kinds = new Map<string, number>();
  for (let i = 0; i < 2000; i++) {
    const r = enc.answer(host(i));
    kinds.set(r.reason, (kinds.get(r.reason) ?? 0) + 1);
  }
  out['answers sampled (reason: count of 2,000)'] = [...kinds].map(([k, v]) => `${k}: ${v}`).join(', ');

  // The floor this machine puts under any p99 measured this way (scheduling, GC, timer): a trivial call.
  out['peer: trivial call (JSON.stringify of a small object), p50/p99 ms'] = fmt(await timeMany(20_000, (i) => JSON.stringify({ i, host: 'x' }), 1000));
  out['service: yaml(host), memo warm, p50/p99 ms'] = fmt(await timeMany(20_000, (i) => enc.yaml(host(i)), 20_000));
  out['service: answer + render (no memo), p50/p99 ms'] = fmt(await timeMany(20_000, (i) => renderEncYaml(enc.answer(host(i))), 1000));
  out['service: yaml(host), all caches dropped before each call, p50/p99 ms'] = fmt(
    await timeMany(5_000, (i) => {
      enc.model.invalidate();
      return enc.yaml(host(i));
    }),
  );

  const token = (await s.call('POST', '/api/v1/tokens', { name: 'bench' })).body.token as string;
  const headers = { authorization: `Bearer ${token}` };
  const inject = await timeMany(3_000, async (i) => {
    const r = await s.app.inject({ method: 'GET', url: `/api/v1/enc/${host(i)}`, headers });
    if (r.statusCode !== 200) throw new Error(`inject ${r.statusCode} ${r.body}`);
  }, 100);
  out['HTTP (app.inject) GET /enc, p50/p99 ms'] = fmt(inject);
  // Peer: the cheapest route the app has (no auth, a constant body), through the same stack.
  out['peer: HTTP (app.inject) GET /health, p50/p99 ms'] = fmt(await timeMany(3_000, () => s.app.inject({ method: 'GET', url: '/api/v1/health' }), 100));

  await s.app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
  const real = await timeMany(3_000, async (i) => {
    const r = await fetch(`${url}/api/v1/enc/${host(i)}`, { headers });
    if (r.status !== 200) throw new Error(`fetch ${r.status}`);
    await r.text();
  }, 100);
  out['HTTP (loopback listen + fetch) GET /enc, p50/p99 ms'] = fmt(real);

  const env = { PATH: process.env['PATH'], HOME: process.env['HOME'], CANOPY_URL: url, CANOPY_TOKEN: token, CANOPY_CONFIG: '/nonexistent' };
  // As the documented wrapper runs it: the compile cache set from process start covers the entry too.
  const cacheDir = await mkdtemp(join(tmpdir(), 'canopy-enc-cc-'));
  const cached = { ...env, NODE_COMPILE_CACHE: cacheDir };
  const N = 30;
  const entry = join(ROOT, 'packages/cli/src/enc-main.ts');
  const label = (what: string) => `${what}: wall median ms (p90); CPU median ms — ${N} runs`;
  out[label("peer: node -e ''")] = await timedMany(N, () => ['-e', ''], env);
  out[label('canopy-enc wrapper (enc-main.ts + NODE_COMPILE_CACHE)')] = await timedMany(N, (i) => [entry, host(i)], cached);
  out[label('enc-main.ts without NODE_COMPILE_CACHE')] = await timedMany(N, (i) => [entry, host(i)], env);
  out[label('canopy enc (full CLI, main.ts)')] = await timedMany(N, (i) => [join(ROOT, 'packages/cli/src/main.ts'), 'enc', host(i)], env);
  out['load average during the run (1 min)'] = loadavg()[0]!.toFixed(1);
  await rm(cacheDir, { recursive: true, force: true });
  return out;
}

const backend = testBackends()[0]!;
const s = await startTestServer(backend);
let results: Record<string, string>;
try {
  results = await run(s);
} finally {
  await s.close();
}
console.log(`| measure | ${results['backend']} |`);
console.log('|---|---|');
for (const [k, v] of Object.entries(results)) if (k !== 'backend') console.log(`| ${k} | ${v} |`);
