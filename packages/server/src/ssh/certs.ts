/**
 * SSH certificates: the user CA signs a user's key for a few hours with the accounts they may use
 * as principals and their name as key id (the machine checks that id against its own list of who
 * may use the account, so a revoked grant closes a certificate at once); a revoked certificate
 * reaches sshd through the agents' KRL. The host CA signs the host keys agents push, so
 * `canopy ssh` checks machines against one `@cert-authority` line instead of trusting on first use.
 */
import { generateKeyPairSync } from 'node:crypto';
import { ForbiddenError, HostKeysPush, NotFoundError, UnauthenticatedError, ValidationError, type SshCertInput } from '@canopy/core';
import type { AclModel } from '../auth/index.ts';
import type { Actor, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import type { MachineService } from '../machines/index.ts';
import { iso, type TreeService } from '../tree/index.ts';
import type { createAccess } from './access.ts';
import { caPublic, parseKeyLine, signCertificate, type CaKey } from './cert.ts';
import { SSH_TOPIC, type SshChange, type SshModel } from './model.ts';
import * as repo from './repo.ts';

/** Host certificates are renewed by the agent's next push; they last this long. */
const HOST_CERT_DAYS = 30;

function newCa(): { seed: string; publicKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const ca = { seed: Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url'), pub: Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url') };
  return { seed: ca.seed.toString('base64'), publicKey: caPublic(ca).line };
}

const view = (r: repo.CertRow) => ({ serial: Number(r.serial), username: r.username, fingerprint: r.fingerprint, principals: r.principals, validAfter: iso(r.validAfter), validBefore: iso(r.validBefore), revokedAt: r.revokedAt === null ? null : iso(r.revokedAt) });

/** Certificate operations over the SSH model; `start()` loads (or makes) both CAs. */
export function createCertOps(deps: { writer: Writer; db: Queryable; tree: TreeService; machines: MachineService; acl: AclModel; model: SshModel; access: ReturnType<typeof createAccess>; refresh: (machineIds?: number[]) => void }) {
  const { writer, db, tree, machines, acl, model, access, refresh } = deps;
  let userCa: CaKey | undefined;
  let hostCa: CaKey | undefined;
  // Host certificates of the machines whose agents are connected here (they push on every connection).
  const hostCerts = new Map<number, { keys: string; certs: string[]; issued: number }>();

  async function loadCa(kind: 'user' | 'host'): Promise<CaKey> {
    const row = await repo.ensureCa(db, kind, newCa);
    const seed = Buffer.from(row.seed, 'base64');
    // The public line's blob is string("ssh-ed25519") + string(32-byte key): the key is its last 32 bytes.
    const pub = Buffer.from(row.publicKey.split(' ')[1] ?? '', 'base64').subarray(-32);
    return { seed, pub };
  }

  /** Accounts the user may use anywhere: their own name, and every shared account on or below the nodes they may log in to. */
  function principalsOf(userId: number, username: string): string[] {
    const out = new Set<string>([username]);
    for (const g of acl.grants()) {
      const role = acl.role(g.roleId);
      if (!role?.operations.includes('machine.login')) continue;
      if (g.subjectKind === 'user' ? g.subjectId !== userId : !acl.membersOf(g.subjectId).includes(userId)) continue;
      const node = tree.model.get(g.nodeId);
      if (!node) continue;
      const here = access.loginAsOf(node).value;
      if (here) out.add(here);
      for (const id of tree.model.subtreeIds(node.id)) {
        const s = model.settings(id)?.loginAs;
        if (s) out.add(s);
      }
    }
    return [...out].sort();
  }

  function userOf(actor: Actor): { id: number; username: string } {
    if (actor.kind !== 'user' || actor.id === null) throw new ForbiddenError('get an SSH certificate (users only)', 'canopy');
    const u = acl.user(actor.id);
    if (!u || u.disabled) throw new UnauthenticatedError('account disabled or removed');
    return { id: u.id, username: u.username };
  }

  return {
    async start(): Promise<void> {
      userCa = await loadCa('user');
      hostCa = await loadCa('host');
    },
    /** The user CA's public key line (machines trust it), once started. */
    userCaLine: () => (userCa ? caPublic(userCa).line : null),
    /** The known_hosts line that makes every machine's certified host key trusted. */
    knownHosts: () => (hostCa ? `@cert-authority * ${caPublic(hostCa).line}\n` : ''),
    hostCertsOf: (machineId: number) => hostCerts.get(machineId)?.certs ?? [],

    /** Sign one of the caller's keys. */
    sign: (actor: Actor, input: SshCertInput) =>
      writer.run(actor, async (w) => {
        if (!userCa) throw new Error('the SSH user CA is not loaded yet');
        const u = userOf(actor);
        const { fingerprint } = parseKeyLine(input.publicKey);
        const validAfter = new Date(Date.now() - 60_000);
        const validBefore = new Date(Date.now() + input.validSeconds * 1000);
        const principals = principalsOf(u.id, u.username);
        const row = await repo.insertCert(w.tx, { userId: u.id, username: u.username, fingerprint, principals, validAfter: validAfter.toISOString(), validBefore: validBefore.toISOString() });
        const certificate = signCertificate(userCa, { key: input.publicKey, kind: 'user', serial: BigInt(row.serial), keyId: u.username, principals, validAfter, validBefore });
        w.audit({ operation: 'ssh.certificate.sign', targetKind: 'user', target: u.username, after: { serial: Number(row.serial), fingerprint, principals, validBefore: validBefore.toISOString() } });
        return { ...view(row), certificate, userCa: caPublic(userCa).line };
      }),

    /** Revoke a certificate: its owner or a superuser. */
    revoke: (actor: Actor, serial: number) =>
      writer.run(actor, async (w) => {
        const row = await repo.certBySerial(w.tx, serial);
        if (!row || (!actor.superuser && row.username !== actor.name)) throw new NotFoundError('certificate', String(serial));
        const done = await repo.revokeCert(w.tx, serial);
        w.audit({ operation: 'ssh.certificate.revoke', targetKind: 'user', target: row.username, before: { serial, fingerprint: row.fingerprint } });
        w.emit(SSH_TOPIC, { revokedCerts: [{ serial: done.serial, validBefore: done.validBefore }] } satisfies SshChange);
        return view(done);
      }),

    /** A user's certificates: one's own, or anyone's for a superuser. */
    async list(actor: Actor, username: string | undefined) {
      const who = username ?? actor.name;
      if (!actor.superuser && who !== actor.name) throw new ForbiddenError("see other users' certificates", 'canopy');
      return { items: (await repo.certsOf(db, who, 200)).map(view) };
    },

    /** An agent's host keys: certify them and send them back in its document. */
    takeHostKeys(from: { machineId: number; hostname: string }, data: unknown): void {
      const parsed = HostKeysPush.safeParse(data);
      if (!parsed.success) throw new ValidationError('bad ssh.hostkeys push', parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })));
      if (!hostCa) throw new Error('the SSH host CA is not loaded yet');
      const m = machines.model.get(from.machineId);
      const principals = [from.hostname, ...(m?.ips ?? [])];
      const now = Date.now();
      // The same keys certified less than half a validity ago keep their certificates: a reconnect does not reload sshd.
      const keys = JSON.stringify([parsed.data.keys, principals]);
      const had = hostCerts.get(from.machineId);
      if (had && had.keys === keys && now - had.issued < (HOST_CERT_DAYS / 2) * 86400_000) return;
      const certs = parsed.data.keys.map((key) => signCertificate(hostCa!, { key, kind: 'host', serial: 0n, keyId: from.hostname, principals, validAfter: new Date(now - 60_000), validBefore: new Date(now + HOST_CERT_DAYS * 86400_000) }));
      hostCerts.set(from.machineId, { keys, certs, issued: now });
      refresh([from.machineId]);
    },
  };
}
