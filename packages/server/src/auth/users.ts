/**
 * User accounts: creating, changing (the password change with its proof and its revocations),
 * deleting, and listing them as the caller may see them. The routes decide who may call what;
 * these functions enforce what holds whoever calls (one's own password needs the current one).
 */
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, type CreateUserInput, type PatchUserInput } from '@canopy/core';
import type { z } from 'zod';
import type { Actor, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import { iso, type TreeService } from '../tree/index.ts';
import { ACL_TOPIC, type AclChange, type AclModel } from './acl.ts';
import { grantViews } from './grants.ts';
import { LoginThrottledError, type LoginLimiter } from './login-limiter.ts';
import * as repo from './repo.ts';
import { hashPassword, hashSecret, sshFingerprint, verifyPassword } from './secrets.ts';

export interface UserDeps {
  writer: Writer;
  db: Queryable;
  tree: TreeService;
  acl: AclModel;
  /** The login throttle: a wrong current password counts as a failed login. */
  logins: LoginLimiter;
  /** Change-feed topic whose `{hashes}` events drop secrets from every replica's principal cache. */
  revokedTopic: string;
}

/** What a password change comes with: the caller's own secret (its session survives) and address (the throttle's key). */
export interface ChangeContext {
  secret?: string | undefined;
  address: string;
}

/** The ACL model's flags of a user row. */
export function userFlags(u: repo.UserRow) {
  return { id: u.id, username: u.username, superuser: u.superuser, disabled: u.disabled };
}

/** The user operations the auth service exposes as its own. */
export function createUserOps(deps: UserDeps) {
  const { writer, db, tree, acl, logins, revokedTopic } = deps;

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

  /** A user as the audit log holds them: no password hash, ISO times. */
  function audited(u: repo.UserRow) {
    return { ...userView(u), updatedAt: iso(u.updatedAt), hasPassword: u.passwordHash !== null };
  }

  /** Ids of the users a non-superuser may see in full: themselves and whoever holds a live grant on a node they may read, or above one. */
  function insiders(actor: Actor): Set<number> {
    const out = new Set<number>(actor.id === null ? [] : [actor.id]);
    const above = new Set<number>();
    for (const root of acl.grantRoots(actor)) {
      if (!acl.can(actor, 'tree.read', root)) continue;
      above.add(root);
      for (const a of tree.model.ancestors(root)) above.add(a.id);
    }
    const now = Date.now();
    for (const g of acl.grants()) {
      if (g.expiresAt !== null && Date.parse(g.expiresAt) <= now) continue;
      if (!above.has(g.nodeId) && !acl.can(actor, 'tree.read', g.nodeId)) continue;
      for (const id of g.subjectKind === 'user' ? [g.subjectId] : acl.membersOf(g.subjectId)) out.add(id);
    }
    return out;
  }

  /** The caller's proof for changing their own password; a wrong one counts against the login throttle. */
  async function proveCurrent(u: repo.UserRow, current: string | undefined, address: string): Promise<void> {
    if (current === undefined) throw new ValidationError('changing your own password needs your current one', [{ path: ['currentPassword'], message: 'required' }]);
    const attempt = logins.admit(`${address}|${u.username}`);
    if (!attempt.ok) throw new LoginThrottledError(Math.max(1, Math.ceil(attempt.retryAfterMs / 1000)));
    if (!(await verifyPassword(current, u.passwordHash))) throw new ValidationError('the current password is wrong', [{ path: ['currentPassword'], message: 'does not match' }]);
    attempt.forget();
  }

  return {
    userView,

    /** Every user; to a non-superuser, e-mail and superuser flag only of the people inside their nodes (else null). */
    async listUsers(actor: Actor) {
      const all = (await repo.listUsers(db)).map(userView);
      if (actor.superuser) return all;
      const inside = insiders(actor);
      return all.map((u) => (inside.has(u.id) ? u : { ...u, email: null, superuser: null }));
    },

    async createUser(actor: Actor, input: z.infer<typeof CreateUserInput>) {
      const u = await writer.run(actor, async (w) => {
        if (await repo.userByName(w.tx, input.username)) throw new ConflictError(`user '${input.username}' already exists`);
        const row = await repo.insertUser(w.tx, {
          username: input.username,
          displayName: input.displayName,
          email: input.email,
          passwordHash: input.password ? await hashPassword(input.password) : null,
          sshKeys: input.sshKeys.map((key) => ({ key, ...sshFingerprint(key) })),
          superuser: input.superuser,
        });
        w.audit({ operation: 'user.create', targetKind: 'user', target: row.username, after: { ...audited(row), sshKeys: row.sshKeys.length } });
        w.emit(ACL_TOPIC, { users: [userFlags(row)] } satisfies AclChange);
        return row;
      });
      return userView(u);
    },

    /**
     * Change a user. A new password ends the user's other sessions (one's own change keeps the
     * session it came on) and, with `revokeTokens` (default: only for a reset by someone else),
     * revokes their API tokens; it is audited as `user.password`, without any secret.
     */
    async patchUser(actor: Actor, username: string, input: z.infer<typeof PatchUserInput>, ctx: ChangeContext) {
      const { password, currentPassword, revokeTokens, sshKeys, ...rest } = input;
      const target = await repo.userByName(db, username);
      if (!target) throw new NotFoundError('user', username);
      const self = actor.kind === 'user' && actor.id === target.id;
      if (!self && !actor.superuser) throw new ForbiddenError('change other users', 'canopy');
      if (self && input.disabled === true) throw new ConflictError('you cannot disable your own account; another superuser can');
      if (password !== undefined && self) await proveCurrent(target, currentPassword, ctx.address);
      const newHash = password === undefined ? undefined : await hashPassword(password);
      const u = await writer.run(actor, async (w) => {
        const before = await repo.userByName(w.tx, username);
        if (!before) throw new NotFoundError('user', username);
        const row = await repo.updateUser(w.tx, before.id, {
          ...rest,
          ...(newHash !== undefined ? { passwordHash: newHash } : {}),
          ...(sshKeys !== undefined ? { sshKeys: sshKeys.map((key) => ({ key, ...sshFingerprint(key) })) } : {}),
        });
        if (Object.keys(rest).length > 0 || sshKeys !== undefined) w.audit({ operation: 'user.update', targetKind: 'user', target: username, before: audited(before), after: audited(row) });
        w.emit(ACL_TOPIC, { users: [userFlags(row)] } satisfies AclChange);
        const hashes: string[] = [];
        if (newHash !== undefined) {
          const ended = await repo.deleteSessionsOf(w.tx, before.id, self && ctx.secret ? hashSecret(ctx.secret) : undefined);
          const revoked = (revokeTokens ?? !self) ? await repo.revokeTokensOf(w.tx, before.id) : [];
          hashes.push(...ended, ...revoked);
          w.audit({ operation: 'user.password', targetKind: 'user', target: username, after: { by: self ? 'self' : 'reset', sessionsEnded: ended.length, tokensRevoked: revoked.length } });
        } else if (input.disabled === true) {
          // A disabled account's sessions end; its tokens stop working while it stays disabled.
          hashes.push(...(await repo.deleteSessionsOf(w.tx, before.id)));
        }
        if (hashes.length) w.emit(revokedTopic, { hashes });
        return row;
      });
      return userView(u);
    },

    /** Delete a user with their grants, memberships, sessions and tokens (which stop working at once). */
    async deleteUser(actor: Actor, username: string) {
      await writer.run(actor, async (w) => {
        const u = await repo.userByName(w.tx, username);
        if (!u) throw new NotFoundError('user', username);
        if (actor.id === u.id) throw new ConflictError('you cannot delete your own account; another superuser can');
        const own = acl.grants().filter((g) => g.subjectKind === 'user' && g.subjectId === u.id);
        const views = await grantViews(w.tx, acl, tree, own);
        await repo.deleteGrants(w.tx, own.map((g) => g.id));
        const hashes = await repo.deleteUser(w.tx, u.id);
        w.audit({ operation: 'user.delete', targetKind: 'user', target: username, before: { ...audited(u), grants: views }, after: { credentialsEnded: hashes.length } });
        w.emit(ACL_TOPIC, { removeGrants: own.map((g) => g.id), removeUsers: [u.id] } satisfies AclChange);
        if (hashes.length) w.emit(revokedTopic, { hashes });
      });
    },
  };
}
