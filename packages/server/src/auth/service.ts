/** Accounts, sessions, tokens, roles and grants; and the one `can()` every route uses. */
import {
  BUILTIN_ROLES,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnauthenticatedError,
  ValidationError,
  isOperation,
  type Operation,
} from '@canopy/core';
import type { z } from 'zod';
import type { CreateGroupInput, CreateRoleInput, CreateTokenInput, CreateUserInput, PatchUserInput } from '@canopy/core';
import type { Actor, ChangeFeed, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import type { TreeService, TreeNode } from '../tree/index.ts';
import { iso } from '../tree/index.ts';
import { ACL_TOPIC, createAclModel, type AclChange } from './acl.ts';
import { createGrantOps } from './grants.ts';
import { createLoginLimiter, LoginThrottledError } from './login-limiter.ts';
import * as repo from './repo.ts';
import { generatePassword, hashPassword, hashSecret, newSecret, sshFingerprint, verifyPassword } from './secrets.ts';

export { ACL_TOPIC };
const AUTH_TOPIC = 'auth.revoked';

export interface Principal {
  actor: Actor;
  via: 'session' | 'token';
  /** Set for console sessions: unsafe requests must echo it in X-CSRF-Token. */
  csrfToken: string | null;
}

export type AuthService = ReturnType<typeof createAuthService>;

/** Build the auth service over the tree service's model. */
export function createAuthService(deps: { writer: Writer; feed: ChangeFeed; db: Queryable; tree: TreeService; sessionHours: number }) {
  const { writer, feed, db, tree } = deps;
  const acl = createAclModel(tree.model);
  const logins = createLoginLimiter();
  // Secret hash → principal, so a token costs one database read per process until revoked.
  const principals = new Map<string, { userId: number; via: 'session' | 'token'; csrfToken: string | null; expires: number }>();

  feed.on(ACL_TOPIC, (c) => acl.apply(c.payload as AclChange));
  feed.on(AUTH_TOPIC, (c) => {
    for (const h of (c.payload as { hashes: string[] }).hashes) principals.delete(h);
  });

  function userFlags(u: repo.UserRow) {
    return { id: u.id, username: u.username, superuser: u.superuser, disabled: u.disabled };
  }

  function userView(u: repo.UserRow) {
    return {
      id: u.id,
      username: u.username,
      displayName: u.displayName,
      email: u.email,
      sshKeys: u.sshKeys,
      superuser: u.superuser,
      disabled: u.disabled,
      groups: acl.groupsOf(u.id),
      version: u.version,
      createdAt: iso(u.createdAt),
    };
  }

  function keysOf(lines: string[]) {
    return lines.map((key) => ({ key, ...sshFingerprint(key) }));
  }

  function actorOf(userId: number): Actor {
    const u = acl.user(userId);
    if (!u || u.disabled) throw new UnauthenticatedError('account disabled or removed');
    return { kind: 'user', id: u.id, name: u.username, superuser: u.superuser };
  }

  /** 404 when the actor may not read the node, 403 when it may read but not do `op`. */
  function authorize(actor: Actor, op: Operation, node: TreeNode): void {
    if (acl.can(actor, op, node.id)) return;
    if (op !== 'tree.read' && acl.can(actor, 'tree.read', node.id)) throw new ForbiddenError(op, node.path);
    throw new NotFoundError('node', node.path);
  }

  return {
    acl,
    can: (actor: Actor, op: Operation, nodeId: number) => acl.can(actor, op, nodeId),
    authorize,
    /** Look a node up by path and authorize `op` on it. */
    nodeFor(actor: Actor, op: Operation, path: string): TreeNode {
      const node = tree.model.byPath(path);
      if (!node) throw new NotFoundError('node', path);
      authorize(actor, op, node);
      return node;
    },
    /** Whether the actor may see the node: `tree.read` on it or any grant beneath it (to navigate). */
    visible(actor: Actor, node: TreeNode): boolean {
      if (acl.can(actor, 'tree.read', node.id)) return true;
      return acl.grantRoots(actor).some((id) => {
        const g = tree.model.get(id);
        return g !== undefined && g.path.startsWith(`${node.path}.`);
      });
    },
    requireSuperuser(actor: Actor, what: string): void {
      if (!actor.superuser) throw new ForbiddenError(what, 'canopy');
    },

    async load(q: Queryable): Promise<void> {
      acl.load(await repo.loadAclSnapshot(q));
    },

    /** Create the built-in roles and, on first start, the `admin` user. Returns a generated password. */
    async bootstrap(adminPassword: string | undefined): Promise<{ generatedPassword?: string }> {
      const system: Actor = { kind: 'system', id: null, name: 'system', superuser: true };
      return writer.run(system, async (w) => {
        const have = new Set(acl.roles().map((r) => r.name));
        const made = [];
        for (const r of BUILTIN_ROLES) if (!have.has(r.name)) made.push(await repo.insertRole(w.tx, { ...r, builtin: true }));
        if (made.length) w.emit(ACL_TOPIC, { roles: made } satisfies AclChange);
        if ((await repo.countUsers(w.tx)) > 0) return {};
        const password = adminPassword ?? generatePassword();
        const admin = await repo.insertUser(w.tx, { username: 'admin', displayName: 'Administrator', passwordHash: await hashPassword(password), superuser: true });
        w.audit({ operation: 'user.create', targetKind: 'user', target: 'admin', after: { username: 'admin', superuser: true } });
        w.emit(ACL_TOPIC, { users: [userFlags(admin)] } satisfies AclChange);
        return adminPassword ? {} : { generatedPassword: password };
      });
    },

    /** Check a password and open a session; `origin` is the client's address, which keys the throttle. */
    async login(username: string, password: string, origin: string) {
      const attempt = logins.admit(`${origin}|${username}`);
      if (!attempt.ok) throw new LoginThrottledError(Math.max(1, Math.ceil(attempt.retryAfterMs / 1000)));
      let user: repo.UserRow | undefined;
      try {
        user = await repo.userByName(db, username);
        const ok = await verifyPassword(password, user?.passwordHash ?? null);
        if (!user || !ok || user.disabled) throw new UnauthenticatedError('wrong username or password');
      } catch (err) {
        // Only a refused password is a failed guess; a database outage must not lock anyone out.
        if (!(err instanceof UnauthenticatedError)) attempt.forget();
        throw err;
      }
      attempt.forget();
      const token = newSecret('cns');
      const csrfToken = newSecret('cns').slice(4);
      const expiresAt = new Date(Date.now() + deps.sessionHours * 3600_000).toISOString();
      await repo.insertSession(db, { userId: user.id, tokenHash: hashSecret(token), csrfToken, expiresAt });
      return { token, csrfToken, expiresAt, user: userView(user) };
    },

    async logout(secret: string): Promise<void> {
      const hash = hashSecret(secret);
      await writer.run(actorOf((await repo.principalByHash(db, hash))?.userId ?? -1), async (w) => {
        await repo.deleteSession(w.tx, hash);
        w.emit(AUTH_TOPIC, { hashes: [hash] });
      }).catch(() => {});
    },

    /** The principal behind a bearer secret or session cookie, or undefined. */
    async authenticate(secret: string): Promise<Principal | undefined> {
      const hash = hashSecret(secret);
      let p = principals.get(hash);
      if (!p || p.expires <= Date.now()) {
        principals.delete(hash);
        const found = await repo.principalByHash(db, hash);
        if (!found) return undefined;
        p = { userId: found.userId, via: found.via, csrfToken: found.csrfToken, expires: found.expiresAt ? Date.parse(found.expiresAt) : Infinity };
        if (principals.size > 100_000) principals.clear();
        principals.set(hash, p);
      }
      const u = acl.user(p.userId);
      if (!u || u.disabled) return undefined;
      return { actor: { kind: 'user', id: u.id, name: u.username, superuser: u.superuser }, via: p.via, csrfToken: p.csrfToken };
    },

    me: async (actor: Actor) => {
      const u = actor.id === null ? undefined : await repo.userById(db, actor.id);
      if (!u) throw new NotFoundError('user', actor.name);
      return userView(u);
    },

    listUsers: async () => (await repo.listUsers(db)).map(userView),

    async createUser(actor: Actor, input: z.infer<typeof CreateUserInput>) {
      const u = await writer.run(actor, async (w) => {
        if (await repo.userByName(w.tx, input.username)) throw new ConflictError(`user '${input.username}' already exists`);
        const row = await repo.insertUser(w.tx, {
          username: input.username,
          displayName: input.displayName,
          email: input.email,
          passwordHash: input.password ? await hashPassword(input.password) : null,
          sshKeys: keysOf(input.sshKeys),
          superuser: input.superuser,
        });
        w.audit({ operation: 'user.create', targetKind: 'user', target: row.username, after: { ...userView(row), sshKeys: row.sshKeys.length } });
        w.emit(ACL_TOPIC, { users: [userFlags(row)] } satisfies AclChange);
        return row;
      });
      return userView(u);
    },

    async patchUser(actor: Actor, username: string, input: z.infer<typeof PatchUserInput>) {
      const u = await writer.run(actor, async (w) => {
        const before = await repo.userByName(w.tx, username);
        if (!before) throw new NotFoundError('user', username);
        const { password, sshKeys, ...rest } = input;
        const row = await repo.updateUser(w.tx, before.id, {
          ...rest,
          ...(password !== undefined ? { passwordHash: await hashPassword(password) } : {}),
          ...(sshKeys !== undefined ? { sshKeys: keysOf(sshKeys) } : {}),
        });
        const { passwordHash: _a, ...b } = before;
        const { passwordHash: _b, ...a } = row;
        w.audit({ operation: 'user.update', targetKind: 'user', target: username, before: b, after: { ...a, passwordChanged: password !== undefined } });
        w.emit(ACL_TOPIC, { users: [userFlags(row)] } satisfies AclChange);
        // A new password (or a disabled account) ends every login session, as an operator expects
        // after a suspected leak; API tokens stay until revoked.
        if (password !== undefined || input.disabled === true) {
          const hashes = await repo.deleteSessionsOf(w.tx, before.id);
          if (hashes.length) w.emit(AUTH_TOPIC, { hashes });
        }
        return row;
      });
      return userView(u);
    },

    listGroups: async () => Promise.all((await repo.listGroups(db)).map(async (g) => ({ ...g, members: await repo.membersOf(db, g.id) }))),

    async createGroup(actor: Actor, input: z.infer<typeof CreateGroupInput>) {
      return writer.run(actor, async (w) => {
        if (await repo.groupByName(w.tx, input.name)) throw new ConflictError(`group '${input.name}' already exists`);
        const ids = await resolveUsers(w.tx, input.members);
        const g = await repo.insertGroup(w.tx, input.name, input.description);
        await repo.replaceMembers(w.tx, g.id, ids);
        w.audit({ operation: 'group.create', targetKind: 'group', target: g.name, after: input });
        w.emit(ACL_TOPIC, { groups: [g], members: [{ groupId: g.id, userIds: ids }] } satisfies AclChange);
        return { ...g, description: input.description, members: input.members };
      });
    },

    async setMembers(actor: Actor, name: string, members: string[]) {
      return writer.run(actor, async (w) => {
        const g = await repo.groupByName(w.tx, name);
        if (!g) throw new NotFoundError('group', name);
        const before = await repo.membersOf(w.tx, g.id);
        const ids = await resolveUsers(w.tx, members);
        await repo.replaceMembers(w.tx, g.id, ids);
        w.audit({ operation: 'group.members', targetKind: 'group', target: name, before, after: members });
        w.emit(ACL_TOPIC, { members: [{ groupId: g.id, userIds: ids }] } satisfies AclChange);
        return { ...g, members: [...members].sort() };
      });
    },

    async createToken(actor: Actor, input: z.infer<typeof CreateTokenInput>) {
      if (actor.id === null) throw new UnauthenticatedError();
      const userId = actor.id;
      const expiresAt = input.expiresAt ?? (input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86400_000).toISOString() : null);
      if (expiresAt && Date.parse(expiresAt) <= Date.now()) throw new ValidationError('expiresAt is in the past', [{ path: ['expiresAt'], message: 'must be in the future' }]);
      const secret = newSecret('cnp');
      const row = await writer.run(actor, async (w) => {
        const t = await repo.insertToken(w.tx, { userId, name: input.name, tokenHash: hashSecret(secret), prefix: secret.slice(0, 8), expiresAt });
        w.audit({ operation: 'token.create', targetKind: 'token', target: `${actor.name}/${input.name}`, after: { id: t.id, name: t.name, prefix: t.prefix, expiresAt } });
        return t;
      });
      return { id: row.id, name: row.name, token: secret, prefix: row.prefix, expiresAt: row.expiresAt ? iso(row.expiresAt) : null };
    },

    listTokens: async (actor: Actor) => (actor.id === null ? [] : repo.listTokens(db, actor.id)),

    async revokeToken(actor: Actor, id: number) {
      await writer.run(actor, async (w) => {
        const hash = actor.id === null ? undefined : await repo.revokeToken(w.tx, actor.id, id);
        if (!hash) throw new NotFoundError('token', String(id));
        w.audit({ operation: 'token.revoke', targetKind: 'token', target: String(id) });
        w.emit(AUTH_TOPIC, { hashes: [hash] });
      });
    },

    roles: () => acl.roles(),

    async createRole(actor: Actor, input: z.infer<typeof CreateRoleInput>) {
      const unknown = input.operations.filter((o) => !isOperation(o));
      if (unknown.length) throw new ValidationError(`unknown operation(s): ${unknown.join(', ')}`, unknown.map((o) => ({ path: ['operations'], message: `unknown operation '${o}'` })));
      return writer.run(actor, async (w) => {
        if (acl.roleByName(input.name)) throw new ConflictError(`role '${input.name}' already exists`);
        const role = await repo.insertRole(w.tx, { ...input, builtin: false });
        w.audit({ operation: 'role.create', targetKind: 'role', target: role.name, after: role });
        w.emit(ACL_TOPIC, { roles: [role] } satisfies AclChange);
        return role;
      });
    },

    // grantsFor, listGrants, grant, revoke (grants.ts).
    ...createGrantOps({ writer, db, tree, acl, authorize }),
  };

  async function resolveUsers(q: Queryable, names: string[]): Promise<number[]> {
    const found = await repo.usersByName(q, [...new Set(names)]);
    const missing = names.filter((n) => !found.some((f) => f.username === n));
    if (missing.length) throw new ValidationError(`unknown user(s): ${missing.join(', ')}`, missing.map((m) => ({ path: ['members'], message: `no user '${m}'` })));
    return found.map((f) => f.id);
  }
}
