/**
 * SSH access from the tree: node settings and break-glass keys (writes), the per-machine `ssh`
 * document every agent holds (sent again within moments of any grant, revoke, user or key change),
 * and the logins agents report (stored, break-glass uses audited and logged loudly).
 */
import { ConflictError, LoginEventsPush, NotFoundError, ValidationError, type LoginEvent, type LoginQuery, type SshSettingsInput } from '@canopy/core';
import type { z } from 'zod';
import type { Dispatcher } from '../agents/index.ts';
import { ACL_TOPIC, type AclModel } from '../auth/index.ts';
import { SYSTEM_ACTOR, type Actor, type ChangeFeed, type Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import { MACHINE_TOPIC, type MachineService } from '../machines/index.ts';
import { iso, TREE_TOPIC, type TreeNode, type TreeService } from '../tree/index.ts';
import { createAccess, DEFAULT_CACHE_SECONDS, type AccessOptions } from './access.ts';
import { createCertOps } from './certs.ts';
import { newEd25519 } from './keys.ts';
import { createSshModel, SSH_TOPIC, type SshChange } from './model.ts';
import * as repo from './repo.ts';

/** Document and push stream names on the agent channel. */
export const SSH_DOC = 'ssh';
export const LOGIN_STREAM = 'ssh.logins';
export const HOSTKEYS_STREAM = 'ssh.hostkeys';

export interface SshOptions extends Partial<AccessOptions> {
  /** Quiet time (ms) gathering changes before documents are sent again; default 50. */
  debounceMs?: number | undefined;
  onError?: ((err: unknown) => void) | undefined;
  /** Where break-glass uses are shouted; default console.error. */
  alarm?: ((msg: string) => void) | undefined;
}

export type SshService = ReturnType<typeof createSshService>;

/** Build the SSH service; `start()` registers the document and the login stream on the dispatcher. */
export function createSshService(deps: { writer: Writer; feed: ChangeFeed; db: Queryable; tree: TreeService; machines: MachineService; acl: AclModel; dispatcher: Dispatcher }, opts: SshOptions = {}) {
  const { writer, feed, db, tree, machines, acl, dispatcher } = deps;
  const onError = opts.onError ?? (() => {});
  const alarm = opts.alarm ?? ((msg: string) => console.error(msg));
  const model = createSshModel(db, onError);
  const access = createAccess({ acl, tree: tree.model, model }, { uidBase: opts.uidBase ?? 20000, sharedUidBase: opts.sharedUidBase ?? 10000 });
  let timer: NodeJS.Timeout | undefined;
  let expiryTimer: NodeJS.Timeout | undefined;
  let started = false;

  /** Send every session here its document again (only those that changed go out), soon. */
  function refreshSoon(): void {
    if (!started || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      dispatcher.refreshDoc(SSH_DOC).catch(onError);
      armExpiry();
    }, opts.debounceMs ?? 50);
  }

  // A grant that expires takes its logins with it: refresh at the next expiry.
  function armExpiry(): void {
    clearTimeout(expiryTimer);
    const now = Date.now();
    let next = Infinity;
    for (const g of acl.grants()) if (g.expiresAt !== null) {
      const t = Date.parse(g.expiresAt);
      if (t > now && t < next) next = t;
    }
    if (next === Infinity) return;
    expiryTimer = setTimeout(refreshSoon, Math.min(next - now + 10, 2 ** 31 - 1));
    expiryTimer.unref();
  }

  feed.on(SSH_TOPIC, (c) => {
    model.apply(c.payload as SshChange);
    refreshSoon();
  });
  feed.on(ACL_TOPIC, (c) => {
    const p = c.payload as { users?: { id: number }[]; removeUsers?: number[] };
    if (p.users?.length || p.removeUsers?.length) void model.reloadUsers((p.users ?? []).map((u) => u.id), p.removeUsers ?? [], refreshSoon);
    else refreshSoon();
  });
  feed.on(MACHINE_TOPIC, refreshSoon);
  feed.on(TREE_TOPIC, refreshSoon);

  const certs = createCertOps({ writer, db, tree, machines, acl, model, access, refresh: (ids) => void dispatcher.refreshDoc(SSH_DOC, ids).catch(onError) });

  function docOf(machineId: number) {
    const m = machines.model.get(machineId);
    return access.docFor(m?.nodeIds ?? [], { userCa: certs.userCaLine(), hostCertificates: certs.hostCertsOf(machineId) });
  }

  /** How `actor` logs in to `hostname`: the account their name opens there, and the host CA line. */
  function loginFor(actor: Actor, hostname: string) {
    const m = machines.model.byHostname(hostname);
    if (!m) throw new NotFoundError('machine', hostname);
    const mine = docOf(m.id).accounts.filter((a) => a.users.includes(actor.name));
    const account = mine.find((a) => a.name === actor.name) ?? mine[0];
    if (!account) throw new NotFoundError('SSH access for you on machine', hostname);
    return { hostname, address: m.ips[0] ?? hostname, account: account.name, knownHosts: certs.knownHosts() };
  }

  function settingsView(node: TreeNode) {
    const own = model.settings(node.id);
    const loginAs = access.loginAsOf(node);
    const cache = access.cacheOf(node);
    return {
      node: node.path,
      own: { loginAs: own?.loginAs ?? null, cacheSeconds: own?.cacheSeconds ?? null },
      effective: { loginAs: loginAs.value, loginAsFrom: loginAs.from?.path ?? null, cacheSeconds: cache.value ?? DEFAULT_CACHE_SECONDS, cacheFrom: cache.from?.path ?? null },
      breakGlass: model.breakGlassOf(node.id).map((g) => ({ id: g.id, fingerprint: g.fingerprint, createdBy: g.createdBy, createdAt: iso(g.createdAt) })),
    };
  }

  async function takeLogins(from: { machineId: number; hostname: string }, data: unknown): Promise<void> {
    const parsed = LoginEventsPush.safeParse(data);
    if (!parsed.success) throw new ValidationError('bad ssh.logins push', parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })));
    const fresh: LoginEvent[] = await repo.insertLogins(db, from.machineId, from.hostname, parsed.data.events);
    const glass = fresh.filter((e) => e.breakGlassNode !== null && e.result === 'accepted');
    if (glass.length === 0) return;
    for (const e of glass) alarm(`BREAK-GLASS LOGIN: ${e.account}@${from.hostname} from ${e.from} at ${e.at} with the key of ${e.breakGlassNode} (${e.fingerprint})`);
    await writer.run(SYSTEM_ACTOR, async (w) => {
      for (const e of glass) {
        const node = tree.model.byPath(e.breakGlassNode ?? '');
        w.audit({ operation: 'ssh.break_glass.used', targetKind: 'machine', target: from.hostname, nodeId: node?.id ?? null, nodePath: e.breakGlassNode, after: { account: e.account, from: e.from, at: e.at, fingerprint: e.fingerprint } });
      }
    });
  }

  return {
    model,
    access,
    /** The `ssh` document of one machine (what its agent holds). */
    docOf,
    /** Who may log in below `path`. */
    accessOf: (path: string) => access.view(tree.node(path)),
    settingsOf: (path: string) => settingsView(tree.node(path)),

    /** Change a node's own settings (absent fields stay, null clears); audited. */
    setSettings: (actor: Actor, path: string, input: SshSettingsInput) =>
      writer.run(actor, async (w) => {
        const node = tree.node(path);
        const before = await repo.settingsOf(w.tx, node.id);
        const next = { loginAs: input.loginAs === undefined ? (before?.loginAs ?? null) : input.loginAs, cacheSeconds: input.cacheSeconds === undefined ? (before?.cacheSeconds ?? null) : input.cacheSeconds };
        const change: SshChange = {};
        if (next.loginAs !== null) change.shared = [await repo.ensureSharedAccount(w.tx, next.loginAs)];
        const row = await repo.putSettings(w.tx, node.id, next, actor.name);
        if (row) change.settings = [row];
        else change.removeSettings = [node.id];
        w.audit({ operation: 'ssh.settings.set', targetKind: 'node', target: node.path, nodeId: node.id, nodePath: node.path, before: before ? { loginAs: before.loginAs, cacheSeconds: before.cacheSeconds } : null, after: next });
        w.emit(SSH_TOPIC, change);
        return node;
      }).then(settingsView),

    /** A new break-glass key for a node: the private key is in this answer only. */
    createBreakGlass: (actor: Actor, path: string) =>
      writer.run(actor, async (w) => {
        const node = tree.node(path);
        if (model.breakGlassOf(node.id).length >= 4) throw new ConflictError(`node ${node.path} has 4 live break-glass keys; revoke one first`);
        const pair = newEd25519(`canopy-break-glass ${node.path}`);
        const row = await repo.insertBreakGlass(w.tx, { nodeId: node.id, publicKey: pair.publicKey, fingerprint: pair.fingerprint, createdBy: actor.name });
        w.audit({ operation: 'ssh.break_glass.create', targetKind: 'node', target: node.path, nodeId: node.id, nodePath: node.path, after: { id: row.id, fingerprint: row.fingerprint } });
        w.emit(SSH_TOPIC, { breakGlass: [row] } satisfies SshChange);
        return { id: row.id, node: node.path, account: 'root', fingerprint: row.fingerprint, publicKey: pair.publicKey, privateKey: pair.privateKey };
      }),

    revokeBreakGlass: (actor: Actor, path: string, id: number) =>
      writer.run(actor, async (w) => {
        const node = tree.node(path);
        const row = await repo.revokeBreakGlass(w.tx, node.id, id);
        if (!row) throw new NotFoundError('break-glass key', `${node.path}#${id}`);
        w.audit({ operation: 'ssh.break_glass.revoke', targetKind: 'node', target: node.path, nodeId: node.id, nodePath: node.path, before: { id: row.id, fingerprint: row.fingerprint } });
        w.emit(SSH_TOPIC, { removeBreakGlass: [row.id] } satisfies SshChange);
      }),

    /** Logins newest first, on machines below `under` (undefined: all) and/or of one user. */
    async logins(f: z.infer<typeof LoginQuery>, under: TreeNode | undefined) {
      let machineIds: number[] | undefined;
      if (under) {
        machineIds = machines.model.query({ under: under.id }, 1_000_000, undefined).ids;
      }
      const found = await repo.queryLogins(db, { machineIds, username: f.user, result: f.result, before: f.cursor ? Number(f.cursor) : undefined }, f.limit);
      const items = found.map((r) => ({ id: Number(r.id), at: iso(r.at), hostname: r.hostname, account: r.account, user: r.username, from: r.fromAddr, result: r.result, method: r.method, fingerprint: r.fingerprint, breakGlassNode: r.breakGlassNode, reason: r.reason }));
      const last = items.at(-1);
      return { items, ...(items.length === f.limit && last ? { nextCursor: String(last.id) } : {}) };
    },

    loginFor,
    /** Sign, revoke and list user certificates; the host CA's known_hosts line. */
    signCertificate: certs.sign,
    revokeCertificate: certs.revoke,
    certificates: certs.list,
    knownHosts: certs.knownHosts,

    load: (q: Queryable) => model.load(q),
    async start(): Promise<void> {
      await certs.start();
      started = true;
      dispatcher.provideDoc(SSH_DOC, docOf);
      dispatcher.onPush(LOGIN_STREAM, takeLogins);
      dispatcher.onPush(HOSTKEYS_STREAM, (from, data) => certs.takeHostKeys(from, data));
      armExpiry();
    },
    stop(): void {
      started = false;
      clearTimeout(timer);
      clearTimeout(expiryTimer);
      timer = undefined;
    },
  };
}
