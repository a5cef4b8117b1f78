/** Drizzle definition of the install requests table; migrations/0201_provisioning.sql and 0540_provisioning_proof.sql and 0610_enrollment_tokens.sql are the source of truth. */
import { pgTable, integer, text, timestamp } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'string' });

export const PROVISIONING_STATES = ['open', 'bound', 'expired', 'cancelled'] as const;
export type ProvisioningState = (typeof PROVISIONING_STATES)[number];

export const provisioningRequests = pgTable('provisioning_requests', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  hostname: text('hostname').notNull(),
  nodeId: integer('node_id').notNull(),
  idc: text('idc').notNull().default(''),
  zone: text('zone').notNull().default(''),
  os: text('os').notNull().default(''),
  serial: text('serial').notNull().default(''),
  mac: text('mac').notNull().default(''),
  requestedBy: text('requested_by').notNull().default(''),
  note: text('note').notNull().default(''),
  state: text('state').$type<ProvisioningState>().notNull().default('open'),
  machineId: integer('machine_id'),
  createdBy: text('created_by').notNull().default(''),
  createdAt: ts('created_at').notNull().defaultNow(),
  expiresAt: ts('expires_at').notNull(),
  closedAt: ts('closed_at'),
  version: integer('version').notNull().default(1),
  /** SHA-256 of the enrollment token, when the request asked for one. */
  tokenHash: text('token_hash'),
  /** When the token was exchanged for a machine credential (it is single use). */
  enrolledAt: ts('enrolled_at'),
});
