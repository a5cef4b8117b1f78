/** Drizzle definitions of the ENC tables; migrations/0200_enc.sql is the source of truth. */
import { pgTable, integer, smallint, text, jsonb, timestamp } from 'drizzle-orm/pg-core';
import type { CatalogClass, EncClasses, EncValue } from '@canopy/core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'string' });

export const puppetCatalog = pgTable('puppet_catalog', {
  id: smallint('id').primaryKey().default(1),
  classes: jsonb('classes').$type<CatalogClass[]>().notNull().default([]),
  source: text('source').$type<'none' | 'url' | 'upload'>().notNull().default('none'),
  sourceUrl: text('source_url'),
  sha256: text('sha256').notNull().default(''),
  version: integer('version').notNull().default(1),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  fetchedAt: ts('fetched_at'),
  lastAttemptAt: ts('last_attempt_at'),
  lastError: text('last_error'),
});

export const puppetDefaults = pgTable('puppet_defaults', {
  id: smallint('id').primaryKey().default(1),
  classes: jsonb('classes').$type<EncClasses>().notNull().default({}),
  environment: text('environment').notNull().default('production'),
  version: integer('version').notNull().default(1),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const nodePuppet = pgTable('node_puppet', {
  nodeId: integer('node_id').primaryKey(),
  classes: jsonb('classes').$type<EncClasses | null>(),
  parameters: jsonb('parameters').$type<Record<string, EncValue>>().notNull().default({}),
  environment: text('environment'),
  version: integer('version').notNull().default(1),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  updatedBy: text('updated_by').notNull().default(''),
});
