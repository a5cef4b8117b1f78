/**
 * SSH access shapes shared by the control center, the agent, the CLI and the console: the per-machine
 * `ssh` document (who may log in as which account, with which key, and sudo), per-node settings,
 * login events pushed by agents, and the views the API answers with. Every string that reaches
 * sshd, sudoers or a command line on a machine is held to a strict grammar here, and the agent
 * checks the document against the same schema before it touches anything.
 */
import { z } from 'zod';
import { SshPublicKey } from '../schemas/auth.ts';
import { NodePath } from '../schemas/common.ts';

/** A local account name: POSIX portable, never starting with `-` or `.` (so never an option or a hidden path). */
export const ACCOUNT_NAME_RE = /^[a-z_][a-z0-9_.-]{0,31}$/;

/** Accounts Canopy never manages or hands out as a shared login (the break-glass key alone may be root's). */
export const RESERVED_ACCOUNTS: readonly string[] = ['root', 'daemon', 'bin', 'sys', 'sync', 'nobody', 'sshd', 'canopy-ssh'];

export const AccountName = z
  .string()
  .regex(ACCOUNT_NAME_RE, 'must be a POSIX account name: 1-32 of a-z 0-9 _ . -, starting with a letter or _')
  .refine((n) => !n.endsWith('.') && !RESERVED_ACCOUNTS.includes(n), 'is reserved or ends with "."');

/** True when `name` may be a local account Canopy manages. */
export function isAccountName(name: string): boolean {
  return AccountName.safeParse(name).success;
}

/** `SHA256:` + unpadded base64, as `ssh-keygen -l` and sshd's log print it. */
export const KeyFingerprint = z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'must be an OpenSSH SHA256 fingerprint');

/** The key line as written into an answer: type and base64 only (a comment from the user never reaches sshd). */
export const SshKeyLine = SshPublicKey.refine((k) => k.split(' ').length === 2, 'type and base64 only');

/** An OpenSSH certificate line: `<type>-cert-v01@openssh.com <base64> [key id]`. */
export const SshCertLine = z.string().max(16384).regex(/^[a-z0-9-]+-cert-v01@openssh\.com [A-Za-z0-9+/]+={0,3}( [A-Za-z0-9._@-]{1,253})?$/, 'must be one OpenSSH certificate line');

/** One account on a machine and the keys that open it. */
export const SshAccount = z.strictObject({
  name: AccountName,
  uid: z.number().int().min(1000).max(4_000_000_000),
  /** A node's shared account (`loginAs`) rather than one user's own. */
  shared: z.boolean(),
  /** Granted sudo through the drop-in (a shared account only when everyone who lands in it holds `machine.sudo`). */
  sudo: z.boolean(),
  keys: z.array(z.strictObject({ key: SshKeyLine, fingerprint: KeyFingerprint, user: z.string().max(64) })).max(10_000),
  /** Canopy users allowed into it: a user certificate opens it when its key id is one of them. */
  users: z.array(z.string().regex(ACCOUNT_NAME_RE)).max(10_000),
});
export type SshAccount = z.infer<typeof SshAccount>;

/** The per-machine document `ssh`: desired SSH state of one machine. */
export const SshDoc = z.strictObject({
  v: z.literal(1),
  /** Seconds the agent keeps answering from its cache without the control center. */
  cacheSeconds: z.number().int().min(5).max(90 * 86400),
  accounts: z.array(SshAccount).max(10_000),
  /** Break-glass public keys of the machine's nodes: always accepted for root, every use reported. */
  breakGlass: z.array(z.strictObject({ node: NodePath, key: SshKeyLine, fingerprint: KeyFingerprint })).max(256),
  /** The user CA's public key (TrustedUserCAKeys), and per account the principals a certificate must carry. */
  userCa: SshKeyLine.nullable(),
  /** Serials of revoked certificates not yet expired, for the KRL (`RevokedKeys`). */
  revokedSerials: z.array(z.number().int().min(1)).max(100_000),
  /** This machine's host certificates, signed by the host CA (`HostCertificate`). */
  hostCertificates: z.array(SshCertLine).max(8),
});
export type SshDoc = z.infer<typeof SshDoc>;

/** One login as the agent saw it (sshd's log and the keys command). */
export const LoginEvent = z.strictObject({
  /** The agent's id for it: a resent batch stores each login once. */
  id: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
  at: z.iso.datetime(),
  account: z.string().max(64),
  from: z.string().max(64),
  result: z.enum(['accepted', 'refused']),
  method: z.enum(['key', 'cert', 'break-glass', 'other']),
  fingerprint: z.string().max(128).nullable(),
  /** Canopy user whose key or certificate it was, when known. */
  user: z.string().max(64).nullable(),
  /** Node whose break-glass key it was. */
  breakGlassNode: z.string().max(512).nullable(),
  reason: z.string().max(200),
});
export type LoginEvent = z.infer<typeof LoginEvent>;

/** What an agent pushes on stream `ssh.logins`. */
export const LoginEventsPush = z.strictObject({ events: z.array(LoginEvent).min(1).max(1000) });

/** A node's own SSH settings (PUT /nodes/{path}/ssh/settings). */
export const SshSettingsInput = z.strictObject({
  /** A shared account users log in as on the machines below (null: each user their own). */
  loginAs: AccountName.nullable().optional(),
  /** Cache validity below this node, seconds (null: inherit; default 24 h). */
  cacheSeconds: z.number().int().min(5).max(90 * 86400).nullable().optional(),
});
export type SshSettingsInput = z.infer<typeof SshSettingsInput>;

/** A node's SSH settings: its own, and those in effect there (inherited) with where they come from. */
export const SshSettingsView = z.object({
  node: z.string(),
  own: z.object({ loginAs: z.string().nullable(), cacheSeconds: z.number().nullable() }),
  effective: z.object({ loginAs: z.string().nullable(), loginAsFrom: z.string().nullable(), cacheSeconds: z.number(), cacheFrom: z.string().nullable() }),
  breakGlass: z.array(z.object({ id: z.number(), fingerprint: z.string(), createdBy: z.string(), createdAt: z.string() })),
});

/** Who may log in on a node, and through which grant. */
export const SshAccessView = z.object({
  node: z.string(),
  loginAs: z.string().nullable(),
  users: z.array(
    z.object({
      username: z.string(),
      account: z.string().nullable(),
      sudo: z.boolean(),
      keys: z.number(),
      disabled: z.boolean(),
      /** Why no account: a username that is not a valid account name, no key, disabled. */
      problem: z.string().nullable(),
      grants: z.array(z.object({ id: z.number(), role: z.string(), node: z.string(), via: z.string(), sudo: z.boolean(), expiresAt: z.string().nullable() })),
    }),
  ),
});
export type SshAccessView = z.infer<typeof SshAccessView>;

/** One stored login. */
export const LoginView = z.object({
  id: z.number(),
  at: z.string(),
  hostname: z.string(),
  account: z.string(),
  user: z.string().nullable(),
  from: z.string(),
  result: z.enum(['accepted', 'refused']),
  method: z.string(),
  fingerprint: z.string().nullable(),
  breakGlassNode: z.string().nullable(),
  reason: z.string(),
});
export type LoginView = z.infer<typeof LoginView>;

/** GET /ssh/logins query. */
export const LoginQuery = z.strictObject({
  under: NodePath.optional(),
  user: z.string().max(64).optional(),
  result: z.enum(['accepted', 'refused']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().regex(/^\d{1,18}$/).optional(),
});

/** POST /ssh/certificates: sign one of the caller's public keys. */
export const SshCertInput = z.strictObject({
  publicKey: SshPublicKey,
  /** Seconds the certificate is valid; default 8 h, at most 24 h. */
  validSeconds: z.number().int().min(60).max(86400).default(8 * 3600),
});
export type SshCertInput = z.infer<typeof SshCertInput>;

export const SshCertView = z.object({
  serial: z.number(),
  username: z.string(),
  fingerprint: z.string(),
  principals: z.array(z.string()),
  validAfter: z.string(),
  validBefore: z.string(),
  revokedAt: z.string().nullable(),
});

/** A signed certificate, with the CA that signed it. */
export const NewSshCert = SshCertView.extend({ certificate: z.string(), userCa: z.string() });

/** What an agent pushes on stream `ssh.hostkeys`: sshd's host public keys, to be certified. */
export const HostKeysPush = z.strictObject({ keys: z.array(SshKeyLine).min(1).max(8) });

/** GET /machines/{hostname}/ssh/login: how the caller logs in to a machine. */
export const SshLoginView = z.object({ hostname: z.string(), address: z.string(), account: z.string(), knownHosts: z.string() });
