/** Accounts, sessions, tokens, roles and grants; and the one `can()` every route uses. */
import { BUILTIN_ROLES, ForbiddenError, NotFoundError, UnauthenticatedError, type Operation } from '@canopy/core';
import type { Actor, ChangeFeed, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import type { TreeService, TreeNode } from '../tree/index.ts';
import { ACL_TOPIC, createAclModel, type AclChange } from './acl.ts';
import { createAuthLog, type LoginOrigin } from './auth-log.ts';
import { createGrantOps } from './grants.ts';
import { createGroupOps } from './groups.ts';
import { createLoginLimiter, LoginThrottledError } from './login-limiter.ts';
import * as repo from './repo.ts';
import { createRoleOps } from './roles.ts';
import { generatePassword, hashPassword, hashSecret, newSecret, verifyPassword } from './secrets.ts';
import { createTokenOps } from './tokens.ts';
import { createUserOps, userFlags } from './users.ts';

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
  const authLog = createAuthLog(db, (err) => console.error('auth log: an entry could not be written', err));
  const users = createUserOps({ writer, db, tree, acl, logins, revokedTopic: AUTH_TOPIC });
  const { userView } = users;
  // Secret hash → principal, so a token costs one database read per process until revoked.
  const principals = new Map<string, { userId: number; via: 'session' | 'token'; csrfToken: string | null; expires: number }>();

  feed.on(ACL_TOPIC, (c) => acl.apply(c.payload as AclChange));
  feed.on(AUTH_TOPIC, (c) => {
    for (const h of (c.payload as { hashes: string[] }).hashes) principals.delete(h);
  });

  function actorOf(userId: number): Actor {
    const u = acl.user(userId);
    if (!u || u.disabled) throw new UnauthenticatedError('account disabled or removed');
    return { kind: 'user', id: u.id, name: u.username, superuser: u.superuser };
  }

  /** 404 when the actor may not see the node, 403 when it sees it (to open, or as a path-only step) but may not do `op`. */
  function authorize(actor: Actor, op: Operation, node: TreeNode): void {
    if (acl.can(actor, op, node.id)) return;
    if (acl.visible(actor, node.id)) throw new ForbiddenError(op, node.path);
    throw new NotFoundError('node', node.path);
  }

  return {
    acl,
    can: (actor: Actor, op: Operation, nodeId: number) => acl.can(actor, op, nodeId),
    authorize,
    /** Look a node up by path and authorize `op` on it. */
    nodeFor(actor: Actor, op: Operation, path: string): TreeNode {
      const node = tree.model.byPath(path);
      // An old path says where its node went, to a caller who may see it there (tree/service.ts).
      if (!node) throw tree.missing(path, (n) => acl.visible(actor, n.id));
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

    /**
     * Check a password and open a session; the client's address keys the throttle. Every attempt
     * lands in the auth log (auth-log.ts), but for one that fails on the database itself.
     */
    async login(username: string, password: string, origin: LoginOrigin) {
      const attempt = logins.admit(`${origin.address}|${username}`);
      if (!attempt.ok) {
        await authLog.recordThrottled(attempt.window, username, origin);
        throw new LoginThrottledError(Math.max(1, Math.ceil(attempt.retryAfterMs / 1000)));
      }
      let user: repo.UserRow | undefined;
      try {
        user = await repo.userByName(db, username);
        const ok = await verifyPassword(password, user?.passwordHash ?? null);
        if (!user || !ok || user.disabled) throw new UnauthenticatedError('wrong username or password');
      } catch (err) {
        // Only a refused password is a failed guess; a database outage must not lock anyone out.
        if (!(err instanceof UnauthenticatedError)) attempt.forget();
        else await authLog.record(username, user?.id ?? null, 'failure', origin);
        throw err;
      }
      attempt.forget();
      await authLog.record(username, user.id, 'success', origin);
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

    /** Login attempts (auth-log.ts): superusers see every one, others those on their own user name. */
    authLog: authLog.query,

    // listUsers, createUser, patchUser, deleteUser (users.ts).
    ...users,
    // listGroups, createGroup, setMembers, deleteGroup (groups.ts).
    ...createGroupOps({ writer, db, tree, acl }),
    // createToken, listTokens, revokeToken (tokens.ts).
    ...createTokenOps({ writer, db, revokedTopic: AUTH_TOPIC }),
    // roles, createRole, patchRole, deleteRole (roles.ts).
    ...createRoleOps({ writer, db, tree, acl }),
    // grantsFor, listGrants, grant, revoke (grants.ts).
    ...createGrantOps({ writer, db, tree, acl, authorize }),
  };
}
