/** Drizzle definitions of the LVS settings tables; migrations/0300_proxy.sql is the source of truth. */
import { integer, jsonb, pgTable, timestamp } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'string' });

const settingsColumns = {
  settings: jsonb('settings').$type<unknown>().notNull(),
  version: integer('version').notNull().default(1),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
};

export const lvsServices = pgTable('lvs_services', { nodeId: integer('node_id').primaryKey(), ...settingsColumns });
export const lvsClusters = pgTable('lvs_clusters', { nodeId: integer('node_id').primaryKey(), ...settingsColumns });
