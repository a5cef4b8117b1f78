/** Drizzle definitions of the monitor tables; migrations/0800_monitor.sql is the source of truth. */
import { customType, integer, jsonb, pgTable, primaryKey, serial, smallint, text, timestamp, unique } from 'drizzle-orm/pg-core';

const bytea = customType<{ data: Uint8Array }>({ dataType: () => 'bytea' });

export const monitorSeries = pgTable('monitor_series', {
  id: serial('id').primaryKey(),
  machineId: integer('machine_id').notNull(),
  key: text('key').notNull(),
}, (t) => [unique().on(t.machineId, t.key)]);

export const monitorChunks = pgTable('monitor_chunks', {
  tier: smallint('tier').notNull(),
  startS: integer('start_s').notNull(),
  seriesId: integer('series_id').notNull(),
  count: smallint('count').notNull(),
  data: bytea('data').notNull(),
}, (t) => [primaryKey({ columns: [t.tier, t.startS, t.seriesId] })]);

export const collectRules = pgTable('collect_rules', {
  nodeId: integer('node_id').primaryKey(),
  rules: jsonb('rules').notNull(),
  updatedBy: text('updated_by').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
});
