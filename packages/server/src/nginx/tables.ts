/** Drizzle definitions of the nginx and config-version tables; migrations/0300_proxy.sql, 0301 and 0500 are the source of truth. */
import { boolean, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'string' });

/** Columns every settings table shares: the validated settings document and its version. */
export const settingsColumns = {
  settings: jsonb('settings').$type<unknown>().notNull(),
  version: integer('version').notNull().default(1),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  updatedBy: text('updated_by').notNull().default(''),
};

export const nginxDomains = pgTable('nginx_domains', { domain: text('domain').primaryKey(), ...settingsColumns });
/** Owner and URI-prefix delegations of a domain (migrations/0500). */
export const nginxDomainAccess = pgTable('nginx_domain_access', { domain: text('domain').primaryKey(), ...settingsColumns });
export const nginxServices = pgTable('nginx_services', { nodeId: integer('node_id').primaryKey(), ...settingsColumns });
export const nginxClusters = pgTable('nginx_clusters', { nodeId: integer('node_id').primaryKey(), ...settingsColumns });

export const configBlobs = pgTable('config_blobs', {
  sha256: text('sha256').primaryKey(),
  content: text('content').notNull(),
});

export const configVersions = pgTable(
  'config_versions',
  {
    kind: text('kind').$type<'nginx' | 'lvs'>().notNull(),
    clusterNodeId: integer('cluster_node_id').notNull(),
    number: integer('number').notNull(),
    files: jsonb('files').$type<{ path: string; sha256: string }[]>().notNull(),
    sha256: text('sha256').notNull(),
    inputSha256: text('input_sha256').notNull(),
    author: text('author').notNull(),
    reason: text('reason').notNull(),
    diff: text('diff').notNull(),
    rollbackOf: integer('rollback_of'),
    checkOutput: text('check_output').notNull().default(''),
    createdAt: ts('created_at').notNull().defaultNow(),
    added: integer('added').notNull().default(0),
    removed: integer('removed').notNull().default(0),
    /** Published by a backend change, not by an operator's apply or rollback. */
    automatic: boolean('automatic').notNull().default(false),
    /** When the content (diff, check output, blobs no kept version names) was dropped; null while kept. */
    prunedAt: ts('pruned_at'),
  },
  (t) => [primaryKey({ columns: [t.kind, t.clusterNodeId, t.number] })],
);
