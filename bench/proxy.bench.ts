/**
 * Issue #5 speed: one nginx cluster serving 2,000 domains routed to 10,000 services with 100,000
 * discovery instances (10 per service), on PGlite. Seeds with set-based SQL, reloads the read
 * models as a restart would, then measures through the service layer:
 *  - the full render (draft snapshot + instances → files), target < 1 s;
 *  - the re-render after one instance changes (one upstream re-rendered, the file rejoined and
 *    hashed), target < 50 ms;
 *  - `nginx -t` on the whole config (wall and CPU time), and the first apply end to end;
 *  - a drain through the API until the new version is published (debounce + re-render + nginx -t
 *    of the changed upstream + diff + commit).
 * Run: node_modules/.bin/node bench/proxy.bench.ts
 */
import { sql } from 'drizzle-orm';
import { startTestServer, testBackends, type TestServer } from '../packages/server/src/testing/index.ts';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNginxRenderer, discoveryBackends, findProgram } from '../packages/server/src/nginx/index.ts';
import { fmt, timeMany } from './stats.ts';

const GROUPS = 100;
const PER_GROUP = 100; // → 10,000 services
const PER_SERVICE = 10; // → 100,000 instances
const DOMAINS = 2000;

async function seed(s: TestServer): Promise<void> {
  const db = s.database.db;
  await db.execute(sql`INSERT INTO nodes (parent_id, name, path) VALUES (NULL, 'bench', 'bench')`);
  await db.execute(sql`INSERT INTO nodes (parent_id, name, path) SELECT id, 'edge', 'bench.edge' FROM nodes WHERE path = 'bench'`);
  await db.execute(sql`INSERT INTO nodes (parent_id, name, path)
    SELECT p.id, 'g' || g, 'bench.g' || g FROM nodes p, generate_series(0, ${GROUPS - 1}) g WHERE p.path = 'bench'`);
  await db.execute(sql`INSERT INTO nodes (parent_id, name, path)
    SELECT p.id, 's' || g, p.path || '.s' || g FROM nodes p, generate_series(0, ${PER_GROUP - 1}) g WHERE p.path LIKE 'bench.g%'`);
  // Service k (0-based, by id) gets instances on machines k*10 … k*10+9, addresses 10.a.b.c.
  await db.execute(sql`CREATE TEMP TABLE svc AS SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM nodes WHERE path LIKE 'bench.g%.s%'`);
  await db.execute(sql`INSERT INTO machines (hostname, ips, status)
    SELECT 'm' || lpad(g::text, 6, '0') || '.bench.example', jsonb_build_array('10.' || (g / 65536) || '.' || (g / 256 % 256) || '.' || (g % 256)), 'online'
    FROM generate_series(0, ${GROUPS * PER_GROUP * PER_SERVICE - 1}) g`);
  await db.execute(sql`CREATE TEMP TABLE mk AS SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM machines WHERE hostname LIKE '%.bench.example'`);
  await db.execute(sql`INSERT INTO machine_nodes (machine_id, node_id) SELECT mk.id, svc.id FROM mk JOIN svc ON svc.k = mk.n / ${PER_SERVICE}`);
  await db.execute(sql`INSERT INTO discovery_services (node_id, ports, lb_algorithm) SELECT id, '[{"name":"http","port":8080}]'::jsonb, 'wrr' FROM svc`);
  await db.execute(sql`INSERT INTO discovery_instances (node_id, machine_id, port, port_name, weight)
    SELECT svc.id, mk.id, 8080, 'http', 1 + mk.n % 3 FROM mk JOIN svc ON svc.k = mk.n / ${PER_SERVICE}`);
  await db.execute(sql`INSERT INTO nginx_domains (domain, settings)
    SELECT 'd' || g || '.bench.example.com', jsonb_build_object('domain', 'd' || g || '.bench.example.com', 'ports', '[{"port":8080,"ssl":false}]'::jsonb)
    FROM generate_series(0, ${DOMAINS - 1}) g`);
  await db.execute(sql`INSERT INTO nginx_services (node_id, settings)
    SELECT id, jsonb_build_object('domainUris', jsonb_build_array(jsonb_build_object('domain', 'd' || (k % ${DOMAINS}) || '.bench.example.com', 'uri', '/api/s' || k)),
      'port', 8080, 'balance', '{"method":"wrr"}'::jsonb, 'attributes', jsonb_build_object('max_fails', 2, 'fail_timeout', '10s')) FROM svc`);
  await db.execute(sql`INSERT INTO nginx_clusters (node_id, settings)
    SELECT id, jsonb_build_object('domains', (SELECT jsonb_agg('d' || g || '.bench.example.com') FROM generate_series(0, ${DOMAINS - 1}) g),
      'listenAddress', '127.0.0.1', 'defaultServers', true) FROM nodes WHERE path = 'bench.edge'`);
  await db.execute(sql`ANALYZE`);
  await s.services.tree.load(db);
  await s.services.machines.load(db);
  await s.services.discovery.load(db);
  await s.services.nginx.load(db);
}

/** Median CPU time (this process, user + system) of `n` synchronous runs of `fn`, in ms. */
function medianCpu(n: number, fn: () => unknown): string {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = process.cpuUsage();
    fn();
    const u = process.cpuUsage(c);
    xs.push((u.user + u.system) / 1000);
  }
  return (xs.sort((a, b) => a - b)[n >> 1] ?? NaN).toFixed(0);
}

/** `nginx -t` on the files: wall time, and the CPU time nginx itself used (from bash's `times`). */
async function nginxCheckTimes(files: { path: string; content: string }[]): Promise<{ wallMs: number; cpuMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-bench-nginx-'));
  try {
    mkdirSync(join(dir, 'tmp'));
    for (const f of files) writeFileSync(join(dir, f.path), f.content);
    const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${dir}/tmp/${t};`).join(' ');
    const conf = `pid ${dir}/nginx.pid; error_log ${dir}/error.log; events {} http { ${temps} ${files.map((f) => `include ${join(dir, f.path)};`).join(' ')} }\n`;
    writeFileSync(join(dir, 'nginx.conf'), conf);
    const t = performance.now();
    // `times` prints the children's user and system time after nginx exits.
    const r = spawnSync('bash', ['-c', 'nginx -t -q -p "$1/" -c "$1/nginx.conf" -e stderr && times', 'bench', dir], { encoding: 'utf8' });
    const wallMs = performance.now() - t;
    if (r.status !== 0) throw new Error(r.stderr);
    const secs = [...(r.stdout.trim().split('\n')[1] ?? '').matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
    return { wallMs, cpuMs: ((secs[0] ?? NaN) + (secs[1] ?? NaN)) * 1000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(s: TestServer): Promise<Record<string, string>> {
  const out: Record<string, string> = { backend: s.backend };
  const t0 = performance.now();
  await seed(s);
  out['seed + reload read models (s)'] = ((performance.now() - t0) / 1000).toFixed(1);
  const { nginx, tree, discovery } = s.services;
  const edge = tree.model.byPath('bench.edge');
  const svc = tree.model.byPath('bench.g42.s7');
  if (!edge || !svc) throw new Error('seed failed');

  out['draft snapshot of 10k services, p50/p99 ms'] = fmt(await timeMany(5, () => nginx.settings.draft(edge), 1));
  const input = nginx.settings.draft(edge);
  // A renderer of its own over the same discovery registry, so the publisher's cache is not disturbed.
  const renderer = createNginxRenderer(discoveryBackends(discovery, tree.model));
  out['full render (10k upstreams, 100k servers, 2k domains), p50/p99 ms'] = fmt(await timeMany(5, () => renderer.render(input), 1));
  out['full render, median CPU ms'] = medianCpu(5, () => renderer.render(input));
  const rendered = renderer.render(input);
  out['config size (MB)'] = (rendered.files.reduce((n, f) => n + f.content.length, 0) / 1e6).toFixed(1);

  const host = (await s.call('GET', '/api/v1/services/bench.g42.s7/instances?healthy=false')).body.instances[0].hostname as string;
  const instanceUrl = `/api/v1/services/bench.g42.s7/instances/${host}/8080`;
  let state = rendered.state;
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < 22; i++) {
    const res = await s.call('PUT', instanceUrl, { weight: i % 2 === 0 ? 7 : 1 });
    if (res.status !== 200) throw new Error(JSON.stringify(res.body));
    const t = performance.now();
    const c = process.cpuUsage();
    const next = renderer.rerender(state, input, new Set([svc.id]));
    const used = process.cpuUsage(c);
    if (i >= 2) times.push(performance.now() - t);
    if (i >= 2) cpu.push((used.user + used.system) / 1000);
    if (next.notes.length !== 1) throw new Error('the change was not seen');
    state = next.state;
    await nginx.publisher.flush();
  }
  out['re-render after one instance change (one upstream, file rejoined + sha256), p50/p99 ms'] = fmt(times.sort((a, b) => a - b));
  out['re-render after one instance change, median CPU ms'] = (cpu.sort((a, b) => a - b)[cpu.length >> 1] ?? NaN).toFixed(1);

  if (!findProgram('nginx')) {
    out['nginx -t'] = 'nginx not installed';
    return out;
  }
  const checks = [];
  for (let i = 0; i < 3; i++) checks.push(await nginxCheckTimes(rendered.files));
  checks.sort((a, b) => a.wallMs - b.wallMs);
  out['nginx -t on the whole config, median wall / CPU ms'] = `${checks[1]?.wallMs.toFixed(0)} / ${checks[1]?.cpuMs.toFixed(0)}`;

  const admin = { kind: 'user' as const, id: null, name: 'bench', superuser: true };
  const a0 = performance.now();
  const applied = await nginx.publisher.apply(admin, edge.id, () => nginx.settings.draft(edge), 'bench');
  out['first apply (render + full nginx -t + diff + store), ms'] = (performance.now() - a0).toFixed(0);
  if (applied.version.number !== 1) throw new Error('apply did not publish v1');

  const drains: number[] = [];
  for (let i = 0; i < 5; i++) {
    const from = nginx.publisher.latest(edge.id)?.number ?? 0;
    const e0 = performance.now();
    await s.call('PUT', instanceUrl, { status: i % 2 === 0 ? 'draining' : 'up' });
    const published = await s.call('GET', `/api/v1/nginx/clusters/bench.edge/watch?version=${from}&wait=60s`);
    if (published.body.version <= from) throw new Error('no version after the drain');
    drains.push(performance.now() - e0);
  }
  drains.sort((a, b) => a - b);
  out['drain via API → version published (200 ms debounce, nginx -t of the changed upstream, diff, store), median ms'] = (drains[2] ?? NaN).toFixed(0);
  return out;
}

let s: TestServer | undefined;
const results: Record<string, string>[] = [];
try {
  s = await startTestServer(testBackends()[0]!);
  results.push(await run(s));
} finally {
  await s?.close();
}
const keys = [...new Set(results.flatMap((r) => Object.keys(r)))].filter((k) => k !== 'backend');
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')} (wall times grow with load; CPU times much less)\n`);
console.log(`| measure | ${results.map((r) => r['backend']).join(' | ')} |`);
console.log(`|---|${results.map(() => '---').join('|')}|`);
for (const k of keys) console.log(`| ${k} | ${results.map((r) => r[k] ?? '—').join(' | ')} |`);
