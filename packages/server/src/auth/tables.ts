/** Drizzle definitions of the auth tables added after the spine; migrations/0520_accounts.sql is the source of truth. */
import { pgTable, integer, bigint, text, timestamp } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'string' });

export const authLog = pgTable('auth_log', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  at: ts('at').notNull().defaultNow(),
  username: text('username').notNull(),
  userId: integer('user_id'),
  outcome: text('outcome').$type<'success' | 'failure' | 'rate_limited'>().notNull(),
  address: text('address').notNull().default(''),
  userAgent: text('user_agent').notNull().default(''),
  attempts: integer('attempts').notNull().default(1),
});
