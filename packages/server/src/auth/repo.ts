/** SQL for users, groups, tokens, sessions, roles and grants (and the trashed nodes grants may sit on). */
import { and, desc, eq, gt, gte, inArray, isNull, lt, lte, ne, or, sql, type SQL } from 'drizzle-orm';
import { rows, type Queryable } from '../db/connection.ts';
import { apiTokens, groupMembers, groups, grants, roles, sessions, users } from '../db/tables.ts';
import type { AclSnapshot, GrantRecord, RoleRecord } from './acl.ts';
import { authLog } from './tables.ts';

export type UserRow = typeof users.$inferSelect;

export async function loadAclSnapshot(q: Queryable): Promise<AclSnapshot> {
  const [r, g, m, gr, u] = await Promise.all([
    q.select({ id: roles.id, name: roles.name, description: roles.description, operations: roles.operations, builtin: roles.builtin }).from(roles),
    q.select(grantColumns).from(grants),
    q.select().from(groupMembers),
    q.select({ id: groups.id, name: groups.name }).from(groups),
    q.select({ id: users.id, username: users.username, superuser: users.superuser, disabled: users.disabled }).from(users),
  ]);
  return { roles: r, grants: g as GrantRecord[], members: m, groups: gr, users: u };
}

const grantColumns = {
  id: grants.id,
  subjectKind: grants.subjectKind,
  subjectId: grants.subjectId,
  roleId: grants.roleId,
  nodeId: grants.nodeId,
  expiresAt: grants.expiresAt,
  createdAt: grants.createdAt,
};

export async function userByName(q: Queryable, username: string): Promise<UserRow | undefined> {
  const [row] = await q.select().from(users).where(eq(users.username, username));
  return row;
}

export async function usersByName(q: Queryable, names: string[]): Promise<{ id: number; username: string }[]> {
  if (names.length === 0) return [];
  return q.select({ id: users.id, username: users.username }).from(users).where(inArray(users.username, names));
}

export async function userById(q: Queryable, id: number): Promise<UserRow | undefined> {
  const [row] = await q.select().from(users).where(eq(users.id, id));
  return row;
}

export function listUsers(q: Queryable): Promise<UserRow[]> {
  return q.select().from(users).orderBy(users.username).limit(10000);
}

export async function insertUser(q: Queryable, v: typeof users.$inferInsert): Promise<UserRow> {
  const [row] = await q.insert(users).values(v).returning();
  return row as UserRow;
}

export async function updateUser(q: Queryable, id: number, v: Partial<typeof users.$inferInsert>): Promise<UserRow> {
  const [row] = await q
    .update(users)
    .set({ ...v, version: sql`${users.version} + 1`, updatedAt: sql`now()` })
    .where(eq(users.id, id))
    .returning();
  return row as UserRow;
}

export async function countUsers(q: Queryable): Promise<number> {
  const [r] = await q.select({ n: sql<number>`count(*)::int` }).from(users);
  return r?.n ?? 0;
}

export async function insertGroup(q: Queryable, name: string, description: string): Promise<{ id: number; name: string }> {
  const [row] = await q.insert(groups).values({ name, description }).returning({ id: groups.id, name: groups.name });
  return row as { id: number; name: string };
}

export async function groupByName(q: Queryable, name: string): Promise<{ id: number; name: string; description: string } | undefined> {
  const [row] = await q.select({ id: groups.id, name: groups.name, description: groups.description }).from(groups).where(eq(groups.name, name));
  return row;
}

export function listGroups(q: Queryable) {
  return q.select({ id: groups.id, name: groups.name, description: groups.description }).from(groups).orderBy(groups.name);
}

export async function replaceMembers(q: Queryable, groupId: number, userIds: number[]): Promise<void> {
  await q.delete(groupMembers).where(eq(groupMembers.groupId, groupId));
  if (userIds.length > 0) await q.insert(groupMembers).values(userIds.map((userId) => ({ groupId, userId })));
}

export async function membersOf(q: Queryable, groupId: number): Promise<string[]> {
  const res = await q
    .select({ username: users.username })
    .from(groupMembers)
    .innerJoin(users, eq(users.id, groupMembers.userId))
    .where(eq(groupMembers.groupId, groupId))
    .orderBy(users.username);
  return res.map((r) => r.username);
}

export async function insertSession(q: Queryable, v: { userId: number; tokenHash: string; csrfToken: string; expiresAt: string }) {
  await q.insert(sessions).values(v);
}

/** The user behind a live session or API token, by the secret's hash. */
export async function principalByHash(
  q: Queryable,
  hash: string,
): Promise<{ userId: number; csrfToken: string | null; expiresAt: string | null; via: 'session' | 'token' } | undefined> {
  const [s] = await q
    .select({ userId: sessions.userId, csrfToken: sessions.csrfToken, expiresAt: sessions.expiresAt })
    .from(sessions)
    .where(and(eq(sessions.tokenHash, hash), gt(sessions.expiresAt, sql`now()`)));
  if (s) return { ...s, via: 'session' };
  const [t] = await q
    .select({ userId: apiTokens.userId, expiresAt: apiTokens.expiresAt })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hash), isNull(apiTokens.revokedAt), or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, sql`now()`))));
  if (t) return { userId: t.userId, csrfToken: null, expiresAt: t.expiresAt, via: 'token' };
  return undefined;
}

/** End every session of a user but the one whose hash is `except`; returns their secret hashes (to drop from caches). */
export async function deleteSessionsOf(q: Queryable, userId: number, except?: string): Promise<string[]> {
  const where = except === undefined ? eq(sessions.userId, userId) : and(eq(sessions.userId, userId), ne(sessions.tokenHash, except));
  const res = await q.delete(sessions).where(where).returning({ hash: sessions.tokenHash });
  return res.map((r) => r.hash);
}

export async function deleteSession(q: Queryable, hash: string): Promise<void> {
  await q.delete(sessions).where(eq(sessions.tokenHash, hash));
}

export async function insertToken(q: Queryable, v: typeof apiTokens.$inferInsert) {
  const [row] = await q.insert(apiTokens).values(v).returning();
  return row as typeof apiTokens.$inferSelect;
}

const tokenColumns = {
  id: apiTokens.id,
  userId: apiTokens.userId,
  username: users.username,
  name: apiTokens.name,
  prefix: apiTokens.prefix,
  expiresAt: apiTokens.expiresAt,
  createdAt: apiTokens.createdAt,
  revokedAt: apiTokens.revokedAt,
};
export type TokenRow = { id: number; userId: number; username: string; name: string; prefix: string; expiresAt: string | null; createdAt: string; revokedAt: string | null };

/** API tokens by id, of one user or of everyone, `limit` after the id `after`. */
export function listTokens(q: Queryable, f: { userId?: number | undefined; after?: number | undefined; limit: number }): Promise<TokenRow[]> {
  const where: SQL[] = [];
  if (f.userId !== undefined) where.push(eq(apiTokens.userId, f.userId));
  if (f.after !== undefined) where.push(gt(apiTokens.id, f.after));
  return q
    .select(tokenColumns)
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(where.length ? and(...where) : undefined)
    .orderBy(apiTokens.id)
    .limit(f.limit);
}

export async function tokenById(q: Queryable, id: number): Promise<TokenRow | undefined> {
  const [row] = await q.select(tokenColumns).from(apiTokens).innerJoin(users, eq(users.id, apiTokens.userId)).where(eq(apiTokens.id, id));
  return row;
}

/** Revoke one live token; its secret hash, or undefined when it was not live. */
export async function revokeToken(q: Queryable, id: number): Promise<string | undefined> {
  const [row] = await q
    .update(apiTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .returning({ hash: apiTokens.tokenHash });
  return row?.hash;
}

/** Revoke every live token of a user; their secret hashes. */
export async function revokeTokensOf(q: Queryable, userId: number): Promise<string[]> {
  const res = await q
    .update(apiTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
    .returning({ hash: apiTokens.tokenHash });
  return res.map((r) => r.hash);
}

/** Delete a user; their sessions, tokens and memberships go with them (ON DELETE CASCADE). Returns every secret hash they held. */
export async function deleteUser(q: Queryable, id: number): Promise<string[]> {
  const tokens = await q.select({ hash: apiTokens.tokenHash }).from(apiTokens).where(eq(apiTokens.userId, id));
  const ended = await q.select({ hash: sessions.tokenHash }).from(sessions).where(eq(sessions.userId, id));
  await q.delete(users).where(eq(users.id, id));
  return [...tokens, ...ended].map((r) => r.hash);
}

export async function deleteGroup(q: Queryable, id: number): Promise<void> {
  await q.delete(groups).where(eq(groups.id, id));
}

export async function insertRole(q: Queryable, v: { name: string; description: string; operations: string[]; builtin: boolean }): Promise<RoleRecord> {
  const [row] = await q
    .insert(roles)
    .values(v)
    .returning({ id: roles.id, name: roles.name, description: roles.description, operations: roles.operations, builtin: roles.builtin });
  return row as RoleRecord;
}

export async function insertGrant(q: Queryable, v: typeof grants.$inferInsert): Promise<GrantRecord> {
  const [row] = await q.insert(grants).values(v).returning(grantColumns);
  return row as GrantRecord;
}

export async function updateRole(q: Queryable, id: number, v: { description?: string | undefined; operations?: string[] | undefined }): Promise<RoleRecord> {
  const set = { ...(v.description !== undefined ? { description: v.description } : {}), ...(v.operations !== undefined ? { operations: v.operations } : {}) };
  const [row] = await q
    .update(roles)
    .set(set)
    .where(eq(roles.id, id))
    .returning({ id: roles.id, name: roles.name, description: roles.description, operations: roles.operations, builtin: roles.builtin });
  return row as RoleRecord;
}

export async function deleteRole(q: Queryable, id: number): Promise<void> {
  await q.delete(roles).where(eq(roles.id, id));
}

/** Delete grants by id; the rows deleted. */
export async function deleteGrants(q: Queryable, ids: number[]): Promise<GrantRecord[]> {
  if (ids.length === 0) return [];
  return (await q.delete(grants).where(inArray(grants.id, ids)).returning(grantColumns)) as GrantRecord[];
}

export async function deleteGrant(q: Queryable, id: number): Promise<GrantRecord | undefined> {
  const [row] = await q.delete(grants).where(eq(grants.id, id)).returning(grantColumns);
  return row as GrantRecord | undefined;
}

/**
 * The given nodes and, above each trashed one, its ancestors up to and including the first live
 * one: how a grant on a trashed node finds the node that now governs it. Trashed rows keep their
 * last path and parent (the tree never re-paths them).
 */
export function trashedAncestry(q: Queryable, ids: number[]): Promise<{ id: number; parentId: number | null; path: string; trashed: boolean }[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return rows(
    q,
    sql`WITH RECURSIVE up (id, parent_id, path, trashed) AS (
          SELECT id, parent_id, path, deleted_at IS NOT NULL FROM nodes WHERE id IN (${sql.join(ids.map((i) => sql`${i}`), sql`, `)})
          UNION
          SELECT n.id, n.parent_id, n.path, n.deleted_at IS NOT NULL FROM nodes n JOIN up ON n.id = up.parent_id WHERE up.trashed
        )
        SELECT id, parent_id AS "parentId", path, trashed FROM up`,
  );
}

export type AuthLogRow = typeof authLog.$inferSelect;

/** Record one login attempt; its id. */
export async function insertAuthLog(q: Queryable, v: { username: string; userId: number | null; outcome: AuthLogRow['outcome']; address: string; userAgent: string }): Promise<number> {
  const [row] = await q.insert(authLog).values(v).returning({ id: authLog.id });
  return row?.id ?? 0;
}

/** Count one more refusal on a rate-limited entry. */
export async function bumpAuthLog(q: Queryable, id: number): Promise<void> {
  await q.update(authLog).set({ attempts: sql`${authLog.attempts} + 1` }).where(eq(authLog.id, id));
}

/** Login attempts, newest first, older than the id `before`. */
export function queryAuthLog(
  q: Queryable,
  f: { username?: string | undefined; outcome?: AuthLogRow['outcome'] | undefined; since?: string | undefined; until?: string | undefined; before?: number | undefined },
  limit: number,
): Promise<AuthLogRow[]> {
  const where: SQL[] = [];
  if (f.username !== undefined) where.push(eq(authLog.username, f.username));
  if (f.outcome) where.push(eq(authLog.outcome, f.outcome));
  if (f.since) where.push(gte(authLog.at, f.since));
  if (f.until) where.push(lte(authLog.at, f.until));
  if (f.before !== undefined) where.push(lt(authLog.id, f.before));
  return q.select().from(authLog).where(where.length ? and(...where) : undefined).orderBy(desc(authLog.id)).limit(limit);
}
