/** SQL for users, groups, tokens, sessions, roles and grants (and the trashed nodes grants may sit on). */
import { and, eq, gt, inArray, isNull, or, sql } from 'drizzle-orm';
import { rows, type Queryable } from '../db/connection.ts';
import { apiTokens, groupMembers, groups, grants, roles, sessions, users } from '../db/tables.ts';
import type { AclSnapshot, GrantRecord, RoleRecord } from './acl.ts';

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

/** End every session of a user; returns their secret hashes (to drop from caches). */
export async function deleteSessionsOf(q: Queryable, userId: number): Promise<string[]> {
  const res = await q.delete(sessions).where(eq(sessions.userId, userId)).returning({ hash: sessions.tokenHash });
  return res.map((r) => r.hash);
}

export async function deleteSession(q: Queryable, hash: string): Promise<void> {
  await q.delete(sessions).where(eq(sessions.tokenHash, hash));
}

export async function insertToken(q: Queryable, v: typeof apiTokens.$inferInsert) {
  const [row] = await q.insert(apiTokens).values(v).returning();
  return row as typeof apiTokens.$inferSelect;
}

export function listTokens(q: Queryable, userId: number) {
  return q
    .select({ id: apiTokens.id, name: apiTokens.name, prefix: apiTokens.prefix, expiresAt: apiTokens.expiresAt, createdAt: apiTokens.createdAt, revokedAt: apiTokens.revokedAt })
    .from(apiTokens)
    .where(eq(apiTokens.userId, userId))
    .orderBy(apiTokens.id);
}

export async function revokeToken(q: Queryable, userId: number, id: number): Promise<string | undefined> {
  const [row] = await q
    .update(apiTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiTokens.id, id), eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
    .returning({ hash: apiTokens.tokenHash });
  return row?.hash;
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
