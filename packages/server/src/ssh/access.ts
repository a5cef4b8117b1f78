/**
 * Effective SSH access, computed from memory: the grants on a machine's nodes and their ancestors
 * (`machine.login`, `machine.sudo`), the users' keys, and the nodes' settings (`loginAs`, inherited
 * below the node that sets it; cache validity). The same code answers the agent's `ssh` document and
 * the console's "who may log in here".
 */
import { isAccountName, type SshAccount, type SshDoc } from '@canopy/core';
import type { AclModel } from '../auth/index.ts';
import type { TreeModel, TreeNode } from '../tree/index.ts';
import type { SshModel } from './model.ts';

/** Default cache validity: a day. */
export const DEFAULT_CACHE_SECONDS = 24 * 3600;

export interface AccessOptions {
  /** A user's own account has uid `uidBase + user id`; default 20000. */
  uidBase: number;
  /** A shared account has uid `sharedUidBase + its id`; default 10000 (below the users'). */
  sharedUidBase: number;
}

/** One grant that lets a user in, as the console shows it. */
export interface GrantSource {
  id: number;
  role: string;
  node: string;
  via: string;
  sudo: boolean;
  expiresAt: string | null;
}

/** Who may log in below one node: user id → whether they may sudo, and the grants behind it. */
export type NodeLogins = Map<number, { sudo: boolean; grants: GrantSource[] }>;

/** Access over the ACL, the tree and the SSH model. */
export function createAccess(deps: { acl: AclModel; tree: TreeModel; model: SshModel }, opts: AccessOptions) {
  const { acl, tree, model } = deps;

  /** The chain root → node. */
  const line = (node: TreeNode): TreeNode[] => [...tree.ancestors(node.id), node];

  /** Users who may log in to machines of `node`, now. */
  function loginsOn(node: TreeNode, now = Date.now()): NodeLogins {
    const onLine = new Map(line(node).map((n) => [n.id, n]));
    const found = new Map<number, { sudo: boolean; login: boolean; grants: GrantSource[] }>();
    for (const g of acl.grants()) {
      const at = onLine.get(g.nodeId);
      if (!at) continue;
      if (g.expiresAt !== null && Date.parse(g.expiresAt) <= now) continue;
      const role = acl.role(g.roleId);
      if (!role) continue;
      const login = role.operations.includes('machine.login');
      const sudo = role.operations.includes('machine.sudo');
      if (!login && !sudo) continue;
      const subjects = g.subjectKind === 'user' ? [g.subjectId] : acl.membersOf(g.subjectId);
      const via = g.subjectKind === 'user' ? 'user' : `group ${acl.groupName(g.subjectId) ?? g.subjectId}`;
      for (const u of subjects) {
        const e = found.get(u) ?? { sudo: false, login: false, grants: [] };
        e.login ||= login;
        e.sudo ||= sudo;
        e.grants.push({ id: g.id, role: role.name, node: at.path, via, sudo, expiresAt: g.expiresAt });
        found.set(u, e);
      }
    }
    // sudo without a login lets no one in: both may come from different grants.
    const out: NodeLogins = new Map();
    for (const [u, e] of found) if (e.login) out.set(u, { sudo: e.sudo, grants: e.grants });
    return out;
  }

  /** The nearest value of a setting up the line, with the node it is set on. */
  function nearest<T>(node: TreeNode, pick: (s: NonNullable<ReturnType<SshModel['settings']>>) => T | null): { value: T | null; from: TreeNode | null } {
    const l = line(node);
    for (let i = l.length - 1; i >= 0; i--) {
      const s = model.settings(l[i]!.id);
      const v = s ? pick(s) : null;
      if (v !== null) return { value: v, from: l[i]! };
    }
    return { value: null, from: null };
  }
  const loginAsOf = (node: TreeNode) => nearest(node, (s) => s.loginAs);
  const cacheOf = (node: TreeNode) => nearest(node, (s) => s.cacheSeconds);

  /** Why a user cannot log in (a user with no key may still come with a certificate), or null. */
  function problemOf(userId: number, loginAs: string | null): string | null {
    const u = model.user(userId);
    const flags = acl.user(userId);
    if (!u || !flags) return 'no such user';
    if (flags.disabled) return 'disabled';
    if (loginAs === null && !isAccountName(u.username)) return 'user name is not a valid account name';
    return null;
  }

  /** The `ssh` document of a machine bound to `nodeIds`. */
  function docFor(nodeIds: readonly number[], extra: Pick<SshDoc, 'userCa' | 'hostCertificates'> = { userCa: null, hostCertificates: [] }, now = Date.now()): SshDoc {
    const accounts = new Map<string, SshAccount & { allSudo: boolean }>();
    const glass = new Map<string, SshDoc['breakGlass'][number]>();
    let cacheSeconds: number | null = null;
    for (const id of nodeIds) {
      const node = tree.get(id);
      if (!node) continue;
      const c = cacheOf(node).value ?? DEFAULT_CACHE_SECONDS;
      cacheSeconds = cacheSeconds === null ? c : Math.min(cacheSeconds, c);
      for (const n of line(node)) for (const g of model.breakGlassOf(n.id)) glass.set(g.fingerprint, { node: n.path, key: keyOnly(g.publicKey), fingerprint: g.fingerprint });
      const loginAs = loginAsOf(node).value;
      const sharedId = loginAs === null ? undefined : model.sharedId(loginAs);
      for (const [userId, e] of loginsOn(node, now)) {
        if (problemOf(userId, loginAs) !== null) continue;
        const u = model.user(userId)!;
        const name = loginAs ?? u.username;
        const uid = loginAs === null ? opts.uidBase + userId : sharedId === undefined ? undefined : opts.sharedUidBase + sharedId;
        if (uid === undefined) continue;
        let a = accounts.get(name);
        if (!a) {
          a = { name, uid, shared: loginAs !== null, sudo: false, allSudo: true, keys: [], users: [] };
          accounts.set(name, a);
        }
        // A user's own account and a shared one of the same name: the shared one wins.
        if (a.shared !== (loginAs !== null)) {
          if (loginAs === null) continue;
          Object.assign(a, { uid, shared: true, allSudo: true, keys: [], users: [] });
        }
        a.allSudo &&= e.sudo;
        if (!a.users.includes(u.username)) a.users.push(u.username);
        for (const k of u.sshKeys) if (!a.keys.some((x) => x.fingerprint === k.fingerprint)) a.keys.push({ key: keyOnly(k.key), fingerprint: k.fingerprint, user: u.username });
      }
    }
    return {
      v: 1,
      cacheSeconds: cacheSeconds ?? DEFAULT_CACHE_SECONDS,
      accounts: [...accounts.values()].map(({ allSudo, ...a }) => ({ ...a, sudo: allSudo })).sort((x, y) => (x.name < y.name ? -1 : 1)),
      breakGlass: [...glass.values()],
      userCa: extra.userCa,
      revokedSerials: model.revokedSerials(now),
      hostCertificates: extra.hostCertificates,
    };
  }

  return {
    loginsOn,
    loginAsOf,
    cacheOf,
    docFor,
    /** Who may log in on machines of `node`, as which account, with the grants behind it. */
    view(node: TreeNode) {
      const loginAs = loginAsOf(node).value;
      const users = [...loginsOn(node)].map(([userId, e]) => {
        const u = model.user(userId);
        const problem = problemOf(userId, loginAs);
        return {
          username: u?.username ?? `#${userId}`,
          account: problem === null ? (loginAs ?? u?.username ?? null) : null,
          sudo: e.sudo,
          keys: u?.sshKeys.length ?? 0,
          disabled: acl.user(userId)?.disabled ?? false,
          problem,
          grants: e.grants,
        };
      });
      return { node: node.path, loginAs, users: users.sort((a, b) => (a.username < b.username ? -1 : 1)) };
    },
  };
}

/** A key line without its comment: a user's comment never reaches sshd. */
export function keyOnly(line: string): string {
  const [type = '', b64 = ''] = line.trim().split(/\s+/);
  return `${type} ${b64}`;
}
