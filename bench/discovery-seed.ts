/**
 * Seeding for the discovery benchmark: 10,000 services with 10 instances each (100,000), written
 * with set-based SQL before the server starts, so start-up loads them exactly as after a restart.
 * (No audit entries or change events are written for the seed: it is not what is measured.)
 * The etcd peer gets the same registry in the layout etcd-based discovery uses: one key per
 * instance, `/services/<path>/<host>:<port>`, holding the instance's JSON as Canopy answers it.
 */
import { sql } from 'drizzle-orm';
import type { Database } from '../packages/server/src/db/connection.ts';
import type { Services } from '../packages/server/src/services.ts';
import { b64, etcdCall } from './discovery-peers.ts';

export const DEPTS = 100;
export const PER_DEPT = 100; // 10,000 services
export const PER_SERVICE = 10; // 100,000 instances
const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** The path of service `k` (0-based): `corp.d042.s017`. */
export const servicePath = (k: number): string => `corp.d${pad(Math.floor(k / PER_DEPT), 3)}.s${pad(k % PER_DEPT, 3)}`;

/** Nodes, machines, bindings, services and instances, set-based. */
export async function seedCanopy(database: Database): Promise<void> {
  const db = database.db;
  const machines = DEPTS * PER_DEPT * PER_SERVICE;
  await db.execute(sql`INSERT INTO nodes (parent_id, name, path) VALUES (NULL, 'corp', 'corp')`);
  await db.execute(sql`INSERT INTO nodes (parent_id, name, path)
    SELECT p.id, 'd' || lpad(g::text, 3, '0'), 'corp.d' || lpad(g::text, 3, '0') FROM nodes p, generate_series(0, ${DEPTS - 1}) g WHERE p.path = 'corp'`);
  await db.execute(sql`INSERT INTO nodes (parent_id, name, path)
    SELECT p.id, 's' || lpad(g::text, 3, '0'), p.path || '.s' || lpad(g::text, 3, '0')
    FROM nodes p, generate_series(0, ${PER_DEPT - 1}) g WHERE p.parent_id = (SELECT id FROM nodes WHERE path = 'corp')`);
  await db.execute(sql`INSERT INTO machines (hostname, ips, zone, status)
    SELECT 'h' || lpad(g::text, 6, '0') || '.example', jsonb_build_array('10.' || (g / 65536) || '.' || (g / 256 % 256) || '.' || (g % 256)), 'z' || (g % 3), 'online'
    FROM generate_series(0, ${machines - 1}) g`);
  // Machine g serves service g / 10: both numbered in path / hostname order.
  await db.execute(sql`INSERT INTO machine_nodes (machine_id, node_id)
    SELECT m.id, s.id
    FROM (SELECT id, row_number() OVER (ORDER BY hostname) - 1 AS g FROM machines) m
    JOIN (SELECT id, row_number() OVER (ORDER BY path) - 1 AS k FROM nodes WHERE path LIKE 'corp.d%.s%') s ON s.k = m.g / ${PER_SERVICE}`);
  await db.execute(sql`INSERT INTO discovery_services (node_id, ports, lb_algorithm)
    SELECT id, '[{"name":"http","port":8080}]'::jsonb, 'wrr' FROM nodes WHERE path LIKE 'corp.d%.s%'`);
  await db.execute(sql`INSERT INTO discovery_instances (node_id, machine_id, port, port_name) SELECT node_id, machine_id, 8080, 'http' FROM machine_nodes`);
  await db.execute(sql`ANALYZE`);
}

/** Key prefix of a service in etcd, and the end of its range (prefix with the last byte + 1). */
export function etcdRange(path: string): { key: string; rangeEnd: string } {
  return { key: b64(`/services/${path}/`), rangeEnd: b64(`/services/${path}0`) };
}

/** The key of one instance in etcd. */
export const etcdKey = (path: string, hostname: string, port: number): string => `/services/${path}/${hostname}:${port}`;

/** Put every instance of every service into etcd, 1,000 keys per transaction, 4 at a time. */
export async function seedEtcd(url: string, services: Services, count: number): Promise<number> {
  const puts: { request_put: { key: string; value: string } }[] = [];
  for (let k = 0; k < count; k++) {
    const path = servicePath(k);
    for (const i of services.discovery.resolve(path, { healthyOnly: false })?.instances ?? []) {
      puts.push({ request_put: { key: b64(etcdKey(path, i.hostname, i.port)), value: b64(JSON.stringify(i)) } });
    }
  }
  const batches: (typeof puts)[] = [];
  for (let i = 0; i < puts.length; i += 1000) batches.push(puts.slice(i, i + 1000));
  const worker = async () => {
    for (let b = batches.shift(); b; b = batches.shift()) await etcdCall(url, '/v3/kv/txn', { success: b });
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return puts.length;
}
