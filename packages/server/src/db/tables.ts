/** Drizzle table definitions matching migrations/*.sql; the SQL files are the source of truth. */
import { pgTable, integer, bigint, text, jsonb, boolean, timestamp, primaryKey } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'string' });

export const nodes = pgTable('nodes', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  parentId: integer('parent_id'),
  name: text('name').notNull(),
  path: text('path').notNull(),
  description: text('description').notNull().default(''),
  labels: jsonb('labels').$type<Record<string, string>>().notNull().default({}),
  version: integer('version').notNull().default(1),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  deletedAt: ts('deleted_at'),
});

export const nodePathHistory = pgTable('node_path_history', {
  nodeId: integer('node_id').notNull(),
  oldPath: text('old_path').notNull(),
  newPath: text('new_path').notNull(),
  changedAt: ts('changed_at').notNull().defaultNow(),
});

export const machines = pgTable('machines', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  hostname: text('hostname').notNull(),
  ips: jsonb('ips').$type<string[]>().notNull().default([]),
  serial: text('serial').notNull().default(''),
  idc: text('idc').notNull().default(''),
  zone: text('zone').notNull().default(''),
  kind: text('kind').$type<'physical' | 'vm'>().notNull().default('vm'),
  cpuCores: integer('cpu_cores'),
  memoryMb: integer('memory_mb'),
  diskGb: integer('disk_gb'),
  os: text('os').notNull().default(''),
  status: text('status').$type<'installing' | 'online' | 'offline' | 'maintenance' | 'retired'>().notNull().default('installing'),
  labels: jsonb('labels').$type<Record<string, string>>().notNull().default({}),
  facts: jsonb('facts').$type<Record<string, unknown>>().notNull().default({}),
  version: integer('version').notNull().default(1),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const machineNodes = pgTable(
  'machine_nodes',
  {
    machineId: integer('machine_id').notNull(),
    nodeId: integer('node_id').notNull(),
    boundAt: ts('bound_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.machineId, t.nodeId] })],
);

export const users = pgTable('users', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  username: text('username').notNull(),
  displayName: text('display_name').notNull().default(''),
  email: text('email').notNull().default(''),
  passwordHash: text('password_hash'),
  sshKeys: jsonb('ssh_keys').$type<{ key: string; fingerprint: string; comment: string }[]>().notNull().default([]),
  superuser: boolean('superuser').notNull().default(false),
  disabled: boolean('disabled').notNull().default(false),
  version: integer('version').notNull().default(1),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const groups = pgTable('groups', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export const groupMembers = pgTable(
  'group_members',
  { groupId: integer('group_id').notNull(), userId: integer('user_id').notNull() },
  (t) => [primaryKey({ columns: [t.groupId, t.userId] })],
);

export const apiTokens = pgTable('api_tokens', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  userId: integer('user_id').notNull(),
  name: text('name').notNull(),
  tokenHash: text('token_hash').notNull(),
  prefix: text('prefix').notNull(),
  expiresAt: ts('expires_at'),
  lastUsedAt: ts('last_used_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
  revokedAt: ts('revoked_at'),
});

export const sessions = pgTable('sessions', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  userId: integer('user_id').notNull(),
  tokenHash: text('token_hash').notNull(),
  csrfToken: text('csrf_token').notNull(),
  expiresAt: ts('expires_at').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export const roles = pgTable('roles', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  operations: jsonb('operations').$type<string[]>().notNull().default([]),
  builtin: boolean('builtin').notNull().default(false),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export const grants = pgTable('grants', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  subjectKind: text('subject_kind').$type<'user' | 'group'>().notNull(),
  subjectId: integer('subject_id').notNull(),
  roleId: integer('role_id').notNull(),
  nodeId: integer('node_id').notNull(),
  expiresAt: ts('expires_at'),
  createdBy: integer('created_by'),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export const auditLog = pgTable('audit_log', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  at: ts('at').notNull().defaultNow(),
  actorId: integer('actor_id'),
  actor: text('actor').notNull(),
  operation: text('operation').notNull(),
  targetKind: text('target_kind').notNull(),
  target: text('target').notNull(),
  nodeId: integer('node_id'),
  nodePath: text('node_path'),
  before: jsonb('before'),
  after: jsonb('after'),
  requestId: text('request_id'),
});
