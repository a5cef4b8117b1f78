/** The only SQL of SSH access: node settings, shared accounts, break-glass keys, logins, and users' keys. */
import { sql } from 'drizzle-orm';
import type { LoginEvent } from '@canopy/core';
import { rows, type Queryable } from '../db/connection.ts';

export interface SettingsRow {
  nodeId: number;
  loginAs: string | null;
  cacheSeconds: number | null;
  updatedBy: string;
  updatedAt: string;
}
export interface BreakGlassRow {
  id: number;
  nodeId: number;
  publicKey: string;
  fingerprint: string;
  createdBy: string;
  createdAt: string;
}
export interface UserKeysRow {
  id: number;
  username: string;
  disabled: boolean;
  sshKeys: { key: string; fingerprint: string }[];
}
export interface LoginRow {
  id: string;
  at: string;
  machineId: number;
  hostname: string;
  account: string;
  username: string | null;
  fromAddr: string;
  result: 'accepted' | 'refused';
  method: string;
  fingerprint: string | null;
  breakGlassNode: string | null;
  reason: string;
}

const SETTINGS = sql`node_id AS "nodeId", login_as AS "loginAs", cache_seconds AS "cacheSeconds", updated_by AS "updatedBy", updated_at AS "updatedAt"`;
const GLASS = sql`id, node_id AS "nodeId", public_key AS "publicKey", fingerprint, created_by AS "createdBy", created_at AS "createdAt"`;

export const allSettings = (q: Queryable) => rows<SettingsRow>(q, sql`SELECT ${SETTINGS} FROM ssh_node_settings`);
export const allSharedAccounts = (q: Queryable) => rows<{ id: number; name: string }>(q, sql`SELECT id, name FROM ssh_shared_accounts`);
export const liveBreakGlass = (q: Queryable) => rows<BreakGlassRow>(q, sql`SELECT ${GLASS} FROM ssh_break_glass WHERE revoked_at IS NULL ORDER BY id`);

/** Users' SSH keys and flags: all of them, or those with these ids. */
export function userKeys(q: Queryable, ids?: number[]): Promise<UserKeysRow[]> {
  const where = ids === undefined ? sql`` : sql`WHERE id IN (${sql.join(ids.length ? ids.map((i) => sql`${i}`) : [sql`NULL`], sql`, `)})`;
  return rows<UserKeysRow>(q, sql`SELECT id, username, disabled, ssh_keys AS "sshKeys" FROM users ${where}`);
}

/** A node's own settings, locked for the write. */
export async function settingsOf(q: Queryable, nodeId: number): Promise<SettingsRow | undefined> {
  const [row] = await rows<SettingsRow>(q, sql`SELECT ${SETTINGS} FROM ssh_node_settings WHERE node_id = ${nodeId} FOR UPDATE`);
  return row;
}

/** Set a node's settings (both null: the row goes). */
export async function putSettings(q: Queryable, nodeId: number, v: { loginAs: string | null; cacheSeconds: number | null }, by: string): Promise<SettingsRow | undefined> {
  if (v.loginAs === null && v.cacheSeconds === null) {
    await rows(q, sql`DELETE FROM ssh_node_settings WHERE node_id = ${nodeId}`);
    return undefined;
  }
  const [row] = await rows<SettingsRow>(q, sql`INSERT INTO ssh_node_settings (node_id, login_as, cache_seconds, updated_by, updated_at)
    VALUES (${nodeId}, ${v.loginAs}, ${v.cacheSeconds}, ${by}, now())
    ON CONFLICT (node_id) DO UPDATE SET login_as = EXCLUDED.login_as, cache_seconds = EXCLUDED.cache_seconds, updated_by = EXCLUDED.updated_by, updated_at = now()
    RETURNING ${SETTINGS}`);
  return row;
}

/** The shared account `name`, made on first use (its id fixes its uid). */
export async function ensureSharedAccount(q: Queryable, name: string): Promise<{ id: number; name: string }> {
  await rows(q, sql`INSERT INTO ssh_shared_accounts (name) VALUES (${name}) ON CONFLICT (name) DO NOTHING`);
  const [row] = await rows<{ id: number; name: string }>(q, sql`SELECT id, name FROM ssh_shared_accounts WHERE name = ${name}`);
  return row!;
}

export async function insertBreakGlass(q: Queryable, v: { nodeId: number; publicKey: string; fingerprint: string; createdBy: string }): Promise<BreakGlassRow> {
  const [row] = await rows<BreakGlassRow>(q, sql`INSERT INTO ssh_break_glass (node_id, public_key, fingerprint, created_by)
    VALUES (${v.nodeId}, ${v.publicKey}, ${v.fingerprint}, ${v.createdBy}) RETURNING ${GLASS}`);
  return row!;
}

/** Revoke a node's break-glass key; undefined when it has no such live key. */
export async function revokeBreakGlass(q: Queryable, nodeId: number, id: number): Promise<BreakGlassRow | undefined> {
  const [row] = await rows<BreakGlassRow>(q, sql`UPDATE ssh_break_glass SET revoked_at = now() WHERE id = ${id} AND node_id = ${nodeId} AND revoked_at IS NULL RETURNING ${GLASS}`);
  return row;
}

/** Store logins reported by one machine's agent; a resent event is stored once. Returns the new ones. */
export async function insertLogins(q: Queryable, machineId: number, hostname: string, events: LoginEvent[]): Promise<LoginEvent[]> {
  if (events.length === 0) return [];
  const values = events.map(
    (e) => sql`(${e.id}, ${e.at}, ${machineId}, ${hostname}, ${e.account}, ${e.user}, ${e.from}, ${e.result}, ${e.method}, ${e.fingerprint}, ${e.breakGlassNode}, ${e.reason})`,
  );
  const made = await rows<{ eventId: string }>(q, sql`INSERT INTO ssh_logins (event_id, at, machine_id, hostname, account, username, from_addr, result, method, fingerprint, break_glass_node, reason)
    VALUES ${sql.join(values, sql`, `)} ON CONFLICT (machine_id, event_id) DO NOTHING RETURNING event_id AS "eventId"`);
  const fresh = new Set(made.map((r) => r.eventId));
  return events.filter((e) => fresh.has(e.id));
}

/** Logins newest first: of these machines (undefined: any), of this user, before the cursor id. */
export function queryLogins(q: Queryable, f: { machineIds?: number[] | undefined; username?: string | undefined; result?: string | undefined; before?: number | undefined }, limit: number): Promise<LoginRow[]> {
  const conds = [sql`TRUE`];
  if (f.machineIds !== undefined) conds.push(f.machineIds.length ? sql`machine_id IN (${sql.join(f.machineIds.map((i) => sql`${i}`), sql`, `)})` : sql`FALSE`);
  if (f.username !== undefined) conds.push(sql`username = ${f.username}`);
  if (f.result !== undefined) conds.push(sql`result = ${f.result}`);
  if (f.before !== undefined) conds.push(sql`id < ${f.before}`);
  return rows<LoginRow>(q, sql`SELECT id::text AS id, at, machine_id AS "machineId", hostname, account, username, from_addr AS "fromAddr", result, method, fingerprint,
      break_glass_node AS "breakGlassNode", reason
    FROM ssh_logins WHERE ${sql.join(conds, sql` AND `)} ORDER BY id DESC LIMIT ${limit}`);
}

export interface CertRow {
  serial: string;
  username: string;
  fingerprint: string;
  principals: string[];
  validAfter: string;
  validBefore: string;
  revokedAt: string | null;
}
const CERT = sql`serial::text AS serial, username, fingerprint, principals, valid_after AS "validAfter", valid_before AS "validBefore", revoked_at AS "revokedAt"`;

/** The CA of `kind`, made with `make` when there is none yet (every replica reads the same one). */
export async function ensureCa(q: Queryable, kind: 'user' | 'host', make: () => { seed: string; publicKey: string }): Promise<{ seed: string; publicKey: string }> {
  const [have] = await rows<{ seed: string; publicKey: string }>(q, sql`SELECT seed, public_key AS "publicKey" FROM ssh_cas WHERE kind = ${kind}`);
  if (have) return have;
  const m = make();
  await rows(q, sql`INSERT INTO ssh_cas (kind, seed, public_key) VALUES (${kind}, ${m.seed}, ${m.publicKey}) ON CONFLICT (kind) DO NOTHING`);
  const [row] = await rows<{ seed: string; publicKey: string }>(q, sql`SELECT seed, public_key AS "publicKey" FROM ssh_cas WHERE kind = ${kind}`);
  return row!;
}

/** A new certificate's row; its serial is the certificate's serial. */
export async function insertCert(q: Queryable, v: { userId: number; username: string; fingerprint: string; principals: string[]; validAfter: string; validBefore: string }): Promise<CertRow> {
  const [row] = await rows<CertRow>(q, sql`INSERT INTO ssh_certificates (user_id, username, fingerprint, principals, valid_after, valid_before)
    VALUES (${v.userId}, ${v.username}, ${v.fingerprint}, ${JSON.stringify(v.principals)}::jsonb, ${v.validAfter}, ${v.validBefore}) RETURNING ${CERT}`);
  return row!;
}

export async function certBySerial(q: Queryable, serial: number): Promise<CertRow | undefined> {
  const [row] = await rows<CertRow>(q, sql`SELECT ${CERT} FROM ssh_certificates WHERE serial = ${serial} FOR UPDATE`);
  return row;
}

export async function revokeCert(q: Queryable, serial: number): Promise<CertRow> {
  const [row] = await rows<CertRow>(q, sql`UPDATE ssh_certificates SET revoked_at = coalesce(revoked_at, now()) WHERE serial = ${serial} RETURNING ${CERT}`);
  return row!;
}

/** Revoked certificates not yet expired (what the KRL must hold). */
export const liveRevokedCerts = (q: Queryable) => rows<{ serial: string; validBefore: string }>(q, sql`SELECT serial::text AS serial, valid_before AS "validBefore" FROM ssh_certificates WHERE revoked_at IS NOT NULL AND valid_before > now()`);

/** A user's certificates, newest first. */
export const certsOf = (q: Queryable, username: string, limit: number) => rows<CertRow>(q, sql`SELECT ${CERT} FROM ssh_certificates WHERE username = ${username} ORDER BY serial DESC LIMIT ${limit}`);
