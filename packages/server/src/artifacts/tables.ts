/** Drizzle definition of the artifact table; migrations/0760_artifacts.sql is the source of truth. */
import { bigint, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const artifacts = pgTable('artifacts', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  nodeId: integer('node_id').notNull(),
  version: text('version').notNull(),
  sha256: text('sha256').notNull(),
  size: bigint('size', { mode: 'number' }).notNull(),
  commitId: text('commit_id'),
  builder: text('builder'),
  buildId: integer('build_id'),
  logRef: text('log_ref'),
  createdBy: text('created_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  deployedAt: timestamp('deployed_at', { withTimezone: true, mode: 'string' }),
});
