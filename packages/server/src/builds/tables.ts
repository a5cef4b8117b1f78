/** Drizzle definitions of builds; migrations/0780_builds.sql is the source of truth. */
import { bigint, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'string' });

export const buildSettings = pgTable('build_settings', {
  nodeId: integer('node_id').primaryKey(),
  poolNodeId: integer('pool_node_id'),
  maxPerMachine: integer('max_per_machine'),
  runAs: text('run_as'),
  updatedBy: text('updated_by').notNull(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const builds = pgTable('builds', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  nodeId: integer('node_id').notNull(),
  nodePath: text('node_path').notNull(),
  poolNodeId: integer('pool_node_id').notNull(),
  poolPath: text('pool_path').notNull(),
  repo: text('repo').notNull(),
  ref: text('ref').notNull(),
  command: text('command').notNull(),
  outputPath: text('output_path').notNull(),
  env: jsonb('env').notNull(),
  runAs: text('run_as').notNull(),
  timeoutSeconds: integer('timeout_seconds').notNull(),
  version: text('version'),
  state: text('state').notNull(),
  reason: text('reason'),
  machineId: integer('machine_id'),
  hostname: text('hostname'),
  taskId: text('task_id'),
  commitSha: text('commit_sha'),
  artifactVersion: text('artifact_version'),
  artifactSha256: text('artifact_sha256'),
  artifactSize: bigint('artifact_size', { mode: 'number' }),
  createdBy: text('created_by').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
  startedAt: ts('started_at'),
  finishedAt: ts('finished_at'),
});
