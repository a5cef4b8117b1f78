/** Drizzle definition of the per-node init command; migrations/0620_init_commands.sql is the source of truth. */
import { pgTable, integer, jsonb, text, timestamp } from 'drizzle-orm/pg-core';

export const nodeInitCommands = pgTable('node_init_commands', {
  nodeId: integer('node_id').primaryKey(),
  command: jsonb('command').notNull(),
  updatedBy: text('updated_by').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
});
