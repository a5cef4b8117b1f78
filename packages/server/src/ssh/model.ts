/**
 * The SSH read model: node settings, shared accounts, live break-glass keys (fed by the `ssh` topic)
 * and every user's SSH keys. Keys live in the users table, whose changes come as the ACL topic's
 * user flags; the model reads those users' keys again, one read at a time and in order, so a later
 * change never lands before an earlier one.
 */
import type { Queryable } from '../db/connection.ts';
import * as repo from './repo.ts';

/** Change-feed topic of `SshChange` events. */
export const SSH_TOPIC = 'ssh';

/** One change to the SSH model. */
export interface SshChange {
  settings?: repo.SettingsRow[];
  removeSettings?: number[];
  shared?: { id: number; name: string }[];
  breakGlass?: repo.BreakGlassRow[];
  removeBreakGlass?: number[];
  /** Certificates revoked (serial, end of validity): the KRL holds them until they expire. */
  revokedCerts?: { serial: string; validBefore: string }[];
}

export type SshModel = ReturnType<typeof createSshModel>;

/** An empty model; `load` fills it, `apply` and `reloadUsers` keep it current. */
export function createSshModel(db: Queryable, onError: (err: unknown) => void) {
  const settings = new Map<number, repo.SettingsRow>();
  const shared = new Map<string, number>();
  const glass = new Map<number, repo.BreakGlassRow>();
  const glassByNode = new Map<number, repo.BreakGlassRow[]>();
  const users = new Map<number, repo.UserKeysRow>();
  const revoked = new Map<number, number>();
  let reloading: Promise<void> = Promise.resolve();

  function indexGlass(): void {
    glassByNode.clear();
    for (const g of glass.values()) glassByNode.set(g.nodeId, [...(glassByNode.get(g.nodeId) ?? []), g]);
  }

  return {
    settings: (nodeId: number) => settings.get(nodeId),
    sharedId: (name: string) => shared.get(name),
    breakGlassOf: (nodeId: number): readonly repo.BreakGlassRow[] => glassByNode.get(nodeId) ?? [],
    user: (id: number) => users.get(id),
    /** Serials of revoked certificates still within their validity, ascending. */
    revokedSerials: (now = Date.now()): number[] => [...revoked].filter(([, until]) => until > now).map(([serial]) => serial).sort((a, b) => a - b),

    async load(q: Queryable): Promise<void> {
      const [s, a, g, u, r] = await Promise.all([repo.allSettings(q), repo.allSharedAccounts(q), repo.liveBreakGlass(q), repo.userKeys(q), repo.liveRevokedCerts(q)]);
      settings.clear();
      shared.clear();
      glass.clear();
      users.clear();
      revoked.clear();
      this.apply({ settings: s, shared: a, breakGlass: g, revokedCerts: r });
      for (const r of u) users.set(r.id, r);
    },

    apply(c: SshChange): void {
      for (const s of c.settings ?? []) settings.set(s.nodeId, s);
      for (const id of c.removeSettings ?? []) settings.delete(id);
      for (const a of c.shared ?? []) shared.set(a.name, a.id);
      for (const g of c.breakGlass ?? []) glass.set(g.id, g);
      for (const id of c.removeBreakGlass ?? []) glass.delete(id);
      for (const r of c.revokedCerts ?? []) revoked.set(Number(r.serial), Date.parse(r.validBefore));
      indexGlass();
    },

    /** Read these users' keys again (removed users drop out); `then` runs once they are in. */
    reloadUsers(ids: number[], removed: number[], then: () => void): Promise<void> {
      for (const id of removed) users.delete(id);
      reloading = reloading
        .then(async () => {
          if (ids.length === 0) return;
          const found = await repo.userKeys(db, ids);
          for (const id of ids) users.delete(id);
          for (const r of found) users.set(r.id, r);
        })
        .catch(onError)
        .then(then);
      return reloading;
    },
  };
}
