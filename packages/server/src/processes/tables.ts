/** Drizzle definitions of supervised processes; migrations/0720_processes.sql is the source of truth. */
import { integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const processSpecs = pgTable('process_specs', {
  nodeId: integer('node_id').primaryKey(),
  spec: jsonb('spec').notNull(),
  desired: text('desired').notNull(),
  generation: integer('generation').notNull(),
  updatedBy: text('updated_by').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
});

export const processStates = pgTable('process_states', {
  taskId: text('task_id').primaryKey(),
  nodeId: integer('node_id').notNull(),
  machineId: integer('machine_id').notNull(),
  live: jsonb('live').notNull(),
  at: timestamp('at', { withTimezone: true, mode: 'string' }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
});
