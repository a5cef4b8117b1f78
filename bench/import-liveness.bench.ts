/**
 * Issue #9 item 7: does the server keep answering while a long write runs? A 10,000-row CSV machine
 * import (the bulk write an operator runs on day one) against three probes that must not wait for it:
 *  - resolve: GET /services/{path}/instances over the HTTP stack (served from memory);
 *  - heartbeat: PUT …/heartbeat, alternating fail/pass so every one moves the instance's health
 *    (a transition: shown in memory at once and written through the write lock in the background,
 *    batched with the others that came meanwhile; awaiting that write put heartbeats behind every
 *    import chunk, p99 626 ms);
 *  - DNS: an A query over UDP to Canopy's DNS server.
 * Each probe runs in a loop, one after another, first with no import (the peer), then while the
 * import runs; p50/p99 of each, and the import's rows/s with the probes running and without.
 * On PGlite and (when reachable) PostgreSQL.
 */
import { Resolver } from 'node:dns/promises';
import { testBackends, startTestServer, type TestServer } from '../packages/server/src/testing/index.ts';
import { fmt } from './stats.ts';

const ROWS = 10_000;
const BASELINE_SAMPLES = 300;

async function setup(s: TestServer): Promise<Resolver> {
  for (const [parentPath, name] of [[null, 'bench'], ['bench', 'web'], ['bench', 'bulk']] as const) {
    const r = await s.call('POST', '/api/v1/nodes', { parentPath, name });
    if (r.status !== 201) throw new Error(`node: ${JSON.stringify(r.body)}`);
  }
  for (let i = 0; i < 10; i++) await s.call('POST', '/api/v1/machines', { hostname: `web-${i}`, ips: [`10.200.0.${i + 1}`], nodes: ['bench.web'] });
  await s.call('PUT', '/api/v1/services/bench.web', { ports: [{ name: 'http', port: 80 }] });
  for (let i = 0; i < 10; i++) await s.call('PUT', `/api/v1/services/bench.web/instances/web-${i}/80`, { ttlSeconds: 600 });
  const resolver = new Resolver({ timeout: 30_000, tries: 1 });
  resolver.setServers([`127.0.0.1:${s.services.dns?.port()}`]);
  return resolver;
}

type Probe = () => Promise<void>;

function probes(s: TestServer, resolver: Resolver): Record<string, Probe> {
  let beat = 0;
  return {
    resolve: async () => {
      const r = await s.call('GET', '/api/v1/services/bench.web/instances');
      if (r.status !== 200) throw new Error(`resolve ${r.status}`);
    },
    heartbeat: async () => {
      const r = await s.call('PUT', '/api/v1/services/bench.web/instances/web-0/80/heartbeat', { status: beat++ % 2 ? 'pass' : 'fail' });
      if (r.status !== 200) throw new Error(`heartbeat ${r.status}`);
    },
    dns: async () => {
      const a = await resolver.resolve4('web.bench.svc.canopy');
      if (a.length === 0) throw new Error('dns: no addresses');
    },
  };
}

/** Run every probe in turn until `more()` says stop; durations in ms, sorted, per probe. */
async function sample(ps: Record<string, Probe>, more: (n: number) => boolean): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = Object.fromEntries(Object.keys(ps).map((k) => [k, []]));
  for (let n = 0; more(n); n++) {
    for (const [k, p] of Object.entries(ps)) {
      const t = process.hrtime.bigint();
      await p();
      out[k]?.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }
  for (const v of Object.values(out)) v.sort((a, b) => a - b);
  return out;
}

const csvOf = (prefix: string) =>
  ['hostname,ips,nodes', ...Array.from({ length: ROWS }, (_, i) => `${prefix}-${i},10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255},bench.bulk`)].join('\n');

async function timedImport(s: TestServer, prefix: string): Promise<number> {
  const t = process.hrtime.bigint();
  const r = await s.call('POST', '/api/v1/machines/import', csvOf(prefix), { headers: { 'content-type': 'text/csv' } });
  if (r.status !== 200 || r.body.created !== ROWS) throw new Error(`import: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  return ROWS / (Number(process.hrtime.bigint() - t) / 1e9);
}

async function run(s: TestServer): Promise<Record<string, string>> {
  const resolver = await setup(s);
  const ps = probes(s, resolver);
  await sample(ps, (n) => n < 30); // warm-up
  const idle = await sample(ps, (n) => n < BASELINE_SAMPLES);
  let done = false;
  const importing = timedImport(s, 'a').finally(() => {
    done = true;
  });
  // A failing probe must not close the server under the running import: let it finish first.
  const busy = await sample(ps, () => !done).catch(async (err: unknown) => {
    await importing.catch(() => {});
    throw err;
  });
  const withProbes = await importing;
  const alone = await timedImport(s, 'b');
  const out: Record<string, string> = { backend: s.backend };
  for (const k of Object.keys(ps)) {
    out[`${k} p50/p99 ms, no import`] = fmt(idle[k] ?? []);
    out[`${k} p50/p99 ms, during a 10,000-row import`] = `${fmt(busy[k] ?? [])} (n=${busy[k]?.length ?? 0})`;
  }
  out['import rows/s, probes running'] = withProbes.toFixed(0);
  out['import rows/s, alone'] = alone.toFixed(0);
  return out;
}

const results: Record<string, string>[] = [];
if (testBackends().length === 1) process.env['CANOPY_TEST_DATABASE_URL'] ??= 'postgres://root@127.0.0.1:5432/postgres';
for (const backend of testBackends()) {
  let s: TestServer | undefined;
  try {
    s = await startTestServer(backend, { dns: { port: 0, host: '127.0.0.1' } });
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
