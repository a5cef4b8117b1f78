/** Accounts, tokens, roles, grants and audit shapes. */
import { z } from 'zod';
import { NodePath, safeText, Timestamp } from './common.ts';

const Description = safeText({ max: 2000, multiline: true });
const DisplayName = safeText({ max: 200 });

export const Username = z
  .string()
  .regex(/^[a-z_][a-z0-9_.-]{0,31}$/, 'must be 1-32 characters: lower-case letters, digits, _ . - (POSIX login name)');
export const Password = z.string().min(8, 'at least 8 characters').max(1024);
export const SshPublicKey = safeText({ max: 16384 }).regex(
  /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$/,
  'must be one OpenSSH public key line',
);
export const RoleName = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'lower-case letters, digits and -, starting with a letter');
export const GroupName = RoleName;
export const OperationName = z.string().regex(/^[a-z]+(\.[a-z]+)+$/, 'like capability.verb');

export const LoginInput = z.strictObject({ username: safeText({ min: 1, max: 64 }), password: z.string().min(1).max(1024) });

export const CreateUserInput = z.strictObject({
  username: Username,
  displayName: DisplayName.default(''),
  email: z.union([z.email(), z.literal('')]).default(''),
  password: Password.optional(),
  sshKeys: z.array(SshPublicKey).max(32).default([]),
  superuser: z.boolean().default(false),
});
export const PatchUserInput = z
  .strictObject({
    displayName: DisplayName.optional(),
    email: z.union([z.email(), z.literal('')]).optional(),
    password: Password.optional(),
    sshKeys: z.array(SshPublicKey).max(32).optional(),
    disabled: z.boolean().optional(),
    superuser: z.boolean().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'nothing to change');

export const UserView = z.object({
  id: z.number().int(),
  username: z.string(),
  displayName: z.string(),
  email: z.string(),
  sshKeys: z.array(z.object({ key: z.string(), fingerprint: z.string(), comment: z.string() })),
  superuser: z.boolean(),
  disabled: z.boolean(),
  groups: z.array(z.string()),
  version: z.number().int(),
  createdAt: Timestamp,
});

export const CreateGroupInput = z.strictObject({
  name: GroupName,
  description: Description.default(''),
  members: z.array(Username).max(10000).default([]),
});
export const SetMembersInput = z.strictObject({ members: z.array(Username).max(10000) });

export const CreateTokenInput = z.strictObject({
  name: safeText({ min: 1, max: 100 }),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});

export const CreateRoleInput = z.strictObject({
  name: RoleName,
  description: Description.default(''),
  operations: z.array(OperationName).min(1).max(500),
});

export const CreateGrantInput = z
  .strictObject({
    user: Username.optional(),
    group: GroupName.optional(),
    role: RoleName,
    nodePath: NodePath,
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((v) => (v.user === undefined) !== (v.group === undefined), 'name exactly one of user or group');

export const GrantView = z.object({
  id: z.number().int(),
  subjectKind: z.enum(['user', 'group']),
  subject: z.string(),
  role: z.string(),
  /** The node's path; while the node is in the trash, the path it had. */
  nodePath: z.string(),
  /** The node is in the trash: the grant grants nothing until it is restored (and can still be revoked). */
  trashed: z.boolean(),
  expiresAt: Timestamp.nullable(),
  createdAt: Timestamp,
});

export const AuditQuery = z.strictObject({
  under: NodePath.optional(),
  user: safeText({ max: 64 }).optional(),
  operation: safeText({ max: 100 }).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().regex(/^\d+$/).optional(),
});

export const AuditEntryView = z.object({
  id: z.number().int(),
  at: Timestamp,
  actor: z.string(),
  operation: z.string(),
  targetKind: z.string(),
  target: z.string(),
  nodePath: z.string().nullable(),
  before: z.unknown(),
  after: z.unknown(),
});
