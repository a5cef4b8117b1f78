/** Drizzle definitions of the discovery tables; migrations/0100_discovery.sql is the source of truth. */
import { pgTable, integer, bigint, text, jsonb, boolean, doublePrecision, timestamp, primaryKey } from 'drizzle-orm/pg-core';
import type { HealthState, InstanceStatus, LbAlgorithm, ServicePort } from '@canopy/core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'string' });

export const discoveryServices = pgTable('discovery_services', {
  nodeId: integer('node_id').primaryKey(),
  ports: jsonb('ports').$type<ServicePort[]>().notNull(),
  lbAlgorithm: text('lb_algorithm').$type<LbAlgorithm>().notNull(),
  lbHashKey: text('lb_hash_key'),
  protectThreshold: doublePrecision('protect_threshold').notNull().default(0),
  zoneAware: boolean('zone_aware').notNull().default(false),
  zoneMinHealthy: integer('zone_min_healthy').notNull().default(1),
  passesBeforePassing: integer('passes_before_passing').notNull().default(1),
  failuresBeforeCritical: integer('failures_before_critical').notNull().default(1),
  version: integer('version').notNull().default(1),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const discoveryInstances = pgTable('discovery_instances', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  nodeId: integer('node_id').notNull(),
  machineId: integer('machine_id').notNull(),
  port: integer('port').notNull(),
  portName: text('port_name').notNull(),
  ip: text('ip'),
  weight: integer('weight').notNull().default(1),
  status: text('status').$type<InstanceStatus>().notNull().default('up'),
  health: text('health').$type<HealthState>().notNull().default('passing'),
  ttlSeconds: integer('ttl_seconds'),
  meta: jsonb('meta').$type<Record<string, string>>().notNull().default({}),
  version: integer('version').notNull().default(1),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const discoveryHeartbeats = pgTable('discovery_heartbeats', {
  instanceId: integer('instance_id').primaryKey(),
  lastSeenMs: bigint('last_seen_ms', { mode: 'number' }).notNull(),
});

export const discoveryAliases = pgTable('discovery_aliases', {
  path: text('path').primaryKey(),
  targetNodeId: integer('target_node_id'),
  targetPath: text('target_path'),
  version: integer('version').notNull().default(1),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const discoveryDependencies = pgTable(
  'discovery_dependencies',
  { nodeId: integer('node_id').notNull(), dependsOn: integer('depends_on').notNull() },
  (t) => [primaryKey({ columns: [t.nodeId, t.dependsOn] })],
);

export const discoveryObservedEdges = pgTable(
  'discovery_observed_edges',
  {
    callerNodeId: integer('caller_node_id').notNull(),
    calleeNodeId: integer('callee_node_id').notNull(),
    calls: bigint('calls', { mode: 'number' }).notNull().default(0),
    firstSeen: ts('first_seen').notNull().defaultNow(),
    lastSeen: ts('last_seen').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.callerNodeId, t.calleeNodeId] })],
);
