/** Drizzle definitions of the cron tables; migrations/0740_cron.sql is the source of truth. */
import { bigint, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'string' });

export const cronEntries = pgTable(
  'cron_entries',
  {
    nodeId: integer('node_id').notNull(),
    name: text('name').notNull(),
    spec: jsonb('spec'),
    updatedBy: text('updated_by').notNull(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.nodeId, t.name] })],
);

export const cronRuns = pgTable('cron_runs', {
  id: uuid('id').primaryKey(),
  machineId: integer('machine_id').notNull(),
  name: text('name').notNull(),
  entryKey: text('entry_key').notNull(),
  sourcePath: text('source_path').notNull(),
  state: text('state').notNull(),
  scheduledAt: ts('scheduled_at').notNull(),
  startedAt: ts('started_at'),
  endedAt: ts('ended_at'),
  exitCode: integer('exit_code'),
  reason: text('reason'),
  stdout: text('stdout').notNull().default(''),
  stderr: text('stderr').notNull().default(''),
  truncated: bigint('truncated', { mode: 'number' }).notNull().default(0),
  receivedAt: ts('received_at').notNull().defaultNow(),
});
