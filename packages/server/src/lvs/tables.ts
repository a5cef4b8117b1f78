/** Drizzle definitions of the LVS settings tables; migrations/0300_proxy.sql is the source of truth. */
import { integer, pgTable } from 'drizzle-orm/pg-core';
import { settingsColumns } from '../nginx/tables.ts';

export const lvsServices = pgTable('lvs_services', { nodeId: integer('node_id').primaryKey(), ...settingsColumns });
export const lvsClusters = pgTable('lvs_clusters', { nodeId: integer('node_id').primaryKey(), ...settingsColumns });
