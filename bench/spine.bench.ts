/**
 * Issue #2 speed: 10,000 nodes and 100,000 machines, on PGlite and (when reachable) PostgreSQL.
 * Seeds with set-based SQL, then reloads the read models as a restart would. Reports
 *  - first page + total of a subtree's machines (all 100k under the root), over the HTTP stack;
 *  - can() for a user holding 50 grants, from the in-memory model;
 *  - creating one node, and moving a 1,001-node subtree (and back);
 *  - the console's initial tree load (roots, then the root's children).
 * Peer figure for scale: JumpServer took 48 s to list a user's assets at 60k assets / 10k nodes (its issue #1903).
 */
import { sql } from 'drizzle-orm';
import { testBackends, startTestServer, type TestServer } from '../packages/server/src/testing/index.ts';
import { fmt, percentile, timeMany } from './stats.ts';

const BUS = 10;
const DEPTS = 100; // per BU → 1,000 depts
const SERVICES = 9; // per dept → 9,000 services
const MACHINES = 100_000;

async function seed(s: TestServer): Promise<void> {
  const db = s.database.db;
  await db.execute(sql`INSERT INTO nodes (parent_id, name, path) VALUES (NULL, 'corp', 'corp')`);
  await db.execute(sql`INSERT INTO nodes (parent_id, name, path)
    SELECT p.id, 'bu' || g, 'corp.bu' || g FROM nodes p, generate_series(0, ${BUS - 1}) g WHERE p.path = 'corp'`);
  await db.execute(sql`INSERT INTO nodes (parent_id, name, path)
    SELECT p.id, 'dept' || g, p.path || '.dept' || g FROM nodes p, generate_series(0, ${DEPTS - 1}) g WHERE p.parent_id = (SELECT id FROM nodes WHERE path = 'corp')`);
  await db.execute(sql`INSERT INTO nodes (parent_id, name, path)
    SELECT p.id, 'svc' || g, p.path || '.svc' || g FROM nodes p, generate_series(0, ${SERVICES - 1}) g WHERE p.name LIKE 'dept%'`);
  await db.execute(sql`INSERT INTO machines (hostname, ips, zone, idc, status)
    SELECT 'host' || lpad(g::text, 6, '0') || '.example', jsonb_build_array('10.' || (g / 65536) || '.' || (g / 256 % 256) || '.' || (g % 256)),
           'z' || (g % 3), 'idc' || (g % 2), 'online'
    FROM generate_series(0, ${MACHINES - 1}) g`);
  await db.execute(sql`INSERT INTO machine_nodes (machine_id, node_id)
    SELECT m.id, svc.id FROM machines m
    JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM nodes WHERE name LIKE 'svc%') svc ON svc.k = (m.id % ${BUS * DEPTS * SERVICES})`);
  await db.execute(sql`ANALYZE`);
  await s.services.tree.load(db);
  await s.services.machines.load(db);
}

async function run(s: TestServer): Promise<Record<string, string>> {
  const t0 = Date.now();
  await seed(s);
  const seeded = Date.now() - t0;
  const out: Record<string, string> = { backend: s.backend, 'seed (s)': (seeded / 1000).toFixed(1), nodes: String(s.services.tree.model.size()) };

  const page = await timeMany(30, async () => {
    const r = await s.call('GET', '/api/v1/machines?under=corp&limit=50');
    if (r.status !== 200 || r.body.total !== MACHINES) throw new Error(`list: ${r.status} ${r.body.total}`);
  });
  out['machines page+total, 100k subtree, p50/p99 ms'] = fmt(page);
  const small = await timeMany(30, async () => {
    const r = await s.call('GET', '/api/v1/machines?under=corp.bu3.dept7&limit=50');
    if (r.status !== 200) throw new Error('list');
  });
  out['machines page+total, 100-machine subtree, p50/p99 ms'] = fmt(small);

  // can() with 50 grants on scattered depts, checked against random leaves.
  await s.call('POST', '/api/v1/users', { username: 'bench', password: 'bench-password' });
  for (let i = 0; i < 50; i++) {
    const r = await s.call('POST', '/api/v1/grants', { user: 'bench', role: 'viewer', nodePath: `corp.bu${i % BUS}.dept${(i * 7) % DEPTS}` });
    if (r.status !== 201) throw new Error(`grant: ${JSON.stringify(r.body)}`);
  }
  const model = s.services.tree.model;
  const leaves = [...model.all()].filter((n) => n.name.startsWith('svc')).map((n) => n.id);
  const actor = { kind: 'user' as const, id: s.services.auth.acl.roleByName('viewer') ? (await s.call('GET', '/api/v1/users')).body.items.find((u: { username: string }) => u.username === 'bench').id : 0, name: 'bench', superuser: false };
  const acl = s.services.auth.acl;
  let hits = 0;
  acl.can(actor, 'machine.read', leaves[0] as number);
  const N = 200_000;
  const c0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) if (acl.can(actor, 'machine.read', leaves[(i * 7919) % leaves.length] as number)) hits++;
  out['can(), 50 grants, µs/call'] = ((Number(process.hrtime.bigint() - c0) / 1e3) / N).toFixed(3);
  out['can() allowed share'] = `${((hits / N) * 100).toFixed(1)} %`;

  const create = await timeMany(20, async (i) => {
    const r = await s.call('POST', '/api/v1/nodes', { parentPath: 'corp.bu9', name: `new${i}-${Date.now()}` });
    if (r.status !== 201) throw new Error('create');
  }, 0);
  out['node create p50/p99 ms'] = fmt(create);
  await s.call('POST', '/api/v1/nodes', { parentPath: null, name: 'archive' });
  const moves: number[] = [];
  for (let i = 0; i < 6; i++) {
    const [from, to] = i % 2 === 0 ? ['corp.bu0', 'archive'] : ['archive.bu0', 'corp'];
    const t = process.hrtime.bigint();
    const r = await s.call('POST', `/api/v1/nodes/${from}/move`, { parentPath: to });
    moves.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (r.status !== 200) throw new Error(`move: ${JSON.stringify(r.body)}`);
  }
  moves.sort((a, b) => a - b);
  out['move 1,001-node subtree, median ms'] = percentile(moves, 50).toFixed(1);

  const load = await timeMany(30, async () => {
    const roots = await s.call('GET', '/api/v1/nodes');
    const kids = await s.call('GET', '/api/v1/nodes?under=corp');
    if (roots.status !== 200 || kids.body.items.length !== BUS) throw new Error('tree load');
  });
  out['console initial tree load p50/p99 ms'] = fmt(load);
  return out;
}

const results: Record<string, string>[] = [];
const backends = testBackends();
if (backends.length === 1) {
  process.env['CANOPY_TEST_DATABASE_URL'] ??= 'postgres://root@127.0.0.1:5432/postgres';
}
for (const backend of testBackends()) {
  let s: TestServer | undefined;
  try {
    s = await startTestServer(backend);
    results.push(await run(s));
  } catch (err) {
    console.error(`${backend.name}: ${(err as Error).message}`);
  } finally {
    await s?.close();
  }
}
const keys = [...new Set(results.flatMap((r) => Object.keys(r)))].filter((k) => k !== 'backend');
console.log(`| measure | ${results.map((r) => r['backend']).join(' | ')} |`);
console.log(`|---|${results.map(() => '---').join('|')}|`);
for (const k of keys) console.log(`| ${k} | ${results.map((r) => r[k] ?? '—').join(' | ')} |`);
