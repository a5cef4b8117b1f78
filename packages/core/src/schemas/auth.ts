/** Accounts, tokens, roles, grants and audit shapes. */
import { z } from 'zod';
import { QueryBool } from '../discovery/queries.ts';
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
/**
 * A change to a user. A new `password` for oneself needs `currentPassword` (a superuser resetting
 * someone else's does not). `revokeTokens` goes with a new password: revoke every API token of the
 * user too; by default true for a superuser's reset of another user, false for one's own change.
 * Either way the user's other login sessions end (one's own change keeps the session it came on).
 */
export const PatchUserInput = z
  .strictObject({
    displayName: DisplayName.optional(),
    email: z.union([z.email(), z.literal('')]).optional(),
    password: Password.optional(),
    currentPassword: z.string().min(1).max(1024).optional(),
    revokeTokens: z.boolean().optional(),
    sshKeys: z.array(SshPublicKey).max(32).optional(),
    disabled: z.boolean().optional(),
    superuser: z.boolean().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'nothing to change')
  .refine((v) => v.password !== undefined || (v.currentPassword === undefined && v.revokeTokens === undefined), {
    message: 'currentPassword and revokeTokens go with a new password',
    path: ['password'],
  });

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

/**
 * A user as a listing shows them. To a non-superuser, `email` and `superuser` are null for people
 * outside their nodes: users with no grant (their own or their groups') on any node the caller may
 * read, nor on an ancestor of one.
 */
export const UserListItem = UserView.extend({
  email: z.string().nullable(),
  superuser: z.boolean().nullable(),
});

export const CreateGroupInput = z.strictObject({
  name: GroupName,
  description: Description.default(''),
  members: z.array(Username).max(10000).default([]),
});
export const SetMembersInput = z.strictObject({ members: z.array(Username).max(10000) });

/** Days an API token lives when the request names no expiry. */
export const DEFAULT_TOKEN_DAYS = 90;

/**
 * A new API token. It expires after `expiresInDays`, at `expiresAt`, or by default after
 * DEFAULT_TOKEN_DAYS; a token that never expires must be asked for with `never: true`.
 */
export const CreateTokenInput = z
  .strictObject({
    name: safeText({ min: 1, max: 100 }),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
    expiresInDays: z.number().int().min(1).max(3650).optional(),
    never: z.literal(true).optional(),
  })
  .refine((v) => [v.expiresAt, v.expiresInDays, v.never].filter((x) => x !== undefined).length <= 1, {
    message: 'give at most one of expiresAt, expiresInDays and never',
    path: ['never'],
  });

/** `GET /tokens`: the caller's own; `user` or `all` (superusers; anyone may name themselves). */
export const ListTokensQuery = z.strictObject({
  user: Username.optional(),
  all: QueryBool.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
  cursor: z.string().regex(/^\d{1,15}$/).optional(),
});

export const TokenView = z.object({
  id: z.number().int(),
  name: z.string(),
  prefix: z.string(),
  username: z.string(),
  expiresAt: Timestamp.nullable(),
  createdAt: Timestamp,
  revokedAt: Timestamp.nullable(),
});

export const NewTokenView = z.object({
  id: z.number().int(),
  name: z.string(),
  /** The secret, shown this once. */
  token: z.string(),
  prefix: z.string(),
  expiresAt: Timestamp.nullable(),
});

export const CreateRoleInput = z.strictObject({
  name: RoleName,
  description: Description.default(''),
  operations: z.array(OperationName).min(1).max(500),
});

/** A change to a role: its description, or (custom roles only) its whole operation list. */
export const PatchRoleInput = z
  .strictObject({
    description: Description.optional(),
    operations: z.array(OperationName).min(1).max(500).optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'nothing to change');

export const RoleView = z.object({
  id: z.number().int(),
  name: z.string(),
  description: z.string(),
  operations: z.array(z.string()),
  builtin: z.boolean(),
});

/** `?force=true` on a delete: also remove the grants that still use the group or role. */
export const ForceQuery = z.strictObject({ force: QueryBool.optional() });

export const LoginOutcome = z.enum(['success', 'failure', 'rate_limited']);

/** `GET /auth/log`: login attempts, newest first. Superusers see all; others only their own user name's. */
export const AuthLogQuery = z.strictObject({
  user: safeText({ max: 64 }).optional(),
  outcome: LoginOutcome.optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().regex(/^\d{1,15}$/).optional(),
});

/**
 * One login attempt. Refusals by the rate limiter are one entry per address, user name and limiter
 * window: `attempts` counts them, `at` is the first.
 */
export const AuthLogEntryView = z.object({
  id: z.number().int(),
  at: Timestamp,
  username: z.string(),
  outcome: LoginOutcome,
  address: z.string(),
  userAgent: z.string(),
  attempts: z.number().int(),
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
