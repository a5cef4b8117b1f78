/** Drizzle definitions of the agent tables; migrations/0400_agents.sql is the source of truth. */
import { pgTable, integer, text, timestamp } from 'drizzle-orm/pg-core';

export const machineCredentials = pgTable('machine_credentials', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  machineId: integer('machine_id').notNull(),
  name: text('name').notNull(),
  secretHash: text('secret_hash').notNull(),
  prefix: text('prefix').notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
});
