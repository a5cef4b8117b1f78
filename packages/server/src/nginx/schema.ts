/**
 * Request and response shapes of the nginx and LVS routes. The settings themselves are the core
 * schemas (`nginxDomainSchema`, `nginxServiceSchema`, `lvsServiceSchema`…); these wrap them.
 */
import { z } from 'zod';
import { NodePath, certPathSchema, domainNameSchema } from '@canopy/core';

const unique = <T>(list: T[]) => new Set(list).size === list.length;

/** An IPv4 literal or a bracketed IPv6 literal, as `listen` takes it. */
export const listenAddressSchema = z.union([
  z.ipv4(),
  z
    .string()
    .regex(/^\[[0-9a-fA-F:.]+\]$/, 'an IPv4 literal or an IPv6 literal in brackets')
    .refine((s) => z.ipv6().safeParse(s.slice(1, -1)).success, 'not an IPv6 address'),
]);

/** `PUT /nginx/clusters/{path}`: the domains the cluster's nginx serves and how it listens. */
export const NginxClusterBody = z.strictObject({
  domains: z.array(domainNameSchema).max(100_000).refine(unique, 'domains must be unique'),
  listenAddress: listenAddressSchema.optional(),
  /** Absolute directory for the domains' access and error logs; default: nginx's prefix. */
  logDir: certPathSchema.optional(),
  /** Catch-all servers that answer 404 (or refuse TLS) for hosts the cluster does not serve. */
  defaultServers: z.boolean().default(true),
});
export type NginxClusterSettings = z.output<typeof NginxClusterBody>;

export const DomainParams = z.strictObject({ domain: domainNameSchema });
export const VersionParams = z.strictObject({ path: NodePath, version: z.coerce.number().int().min(1) });
export const DiffParams = VersionParams.extend({ other: z.coerce.number().int().min(1) });

export const ApplyBody = z.strictObject({ reason: z.string().trim().min(1).max(2000) });
export const RollbackBody = z.strictObject({ version: z.int().min(1), reason: z.string().trim().min(1).max(2000).optional() });

export const VersionsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  /** Versions older than this number (the `nextCursor` of the previous page). */
  cursor: z.coerce.number().int().min(1).optional(),
});

const WAIT_RE = /^(\d{1,6})(ms|s|m)?$/;
/** Longest a watch may block. */
export const MAX_WATCH_MS = 5 * 60_000;

/** `?version=N&wait=30s`: answer once a version newer than N is published, or after `wait`. */
export const WatchQuery = z.strictObject({
  version: z.coerce.number().int().min(0).default(0),
  wait: z
    .string()
    .regex(WAIT_RE, "a duration such as '30s', '500ms' or '2m'")
    .default('30s')
    .transform((s) => {
      const [, n, unit] = WAIT_RE.exec(s) as RegExpExecArray;
      return Math.min(MAX_WATCH_MS, Number(n) * (unit === 'ms' ? 1 : unit === 'm' ? 60_000 : 1000));
    }),
});

export const VersionView = z.object({
  version: z.number().int(),
  sha256: z.string(),
  author: z.string(),
  reason: z.string(),
  rollbackOf: z.number().int().nullable(),
  createdAt: z.string(),
  /** Lines the version's diff added and removed; kept when its content is pruned. */
  added: z.number().int(),
  removed: z.number().int(),
  /** Its files, settings snapshot and diff were dropped by the retention policy (CANOPY_CONFIG_KEEP_VERSIONS). */
  contentPruned: z.boolean(),
});

export const FileView = z.object({ path: z.string(), content: z.string() });

export const ConfigView = VersionView.extend({ cluster: z.string(), files: z.array(FileView) });

export const VersionDetailView = VersionView.extend({
  cluster: z.string(),
  files: z.array(FileView),
  diff: z.string(),
  checkOutput: z.string(),
  /** The settings snapshot the version was rendered from. */
  input: z.unknown(),
});

/** One settings row's share of a plan: its hunks, and who changed it last. */
export const PlanOriginView = z.object({
  kind: z.enum(['instances', 'cluster', 'domain', 'service']),
  target: z.string(),
  change: z.enum(['added', 'changed', 'removed']),
  by: z.string(),
  at: z.string(),
  diff: z.string(),
  added: z.number().int(),
  removed: z.number().int(),
});

export const PlanView = z.object({
  cluster: z.string(),
  baseVersion: z.number().int(),
  changed: z.boolean(),
  diff: z.string(),
  added: z.number().int(),
  removed: z.number().int(),
  /** Set when the current version is a rollback and the settings have moved away from it. */
  note: z.string().optional(),
  /** The diff split by the settings row each hunk comes from (nginx). */
  origins: z.array(PlanOriginView).optional(),
});

/** `GET …/versions/{a}/diff/{b}`: the unified diff from version a to version b. */
export const DiffView = z.object({ cluster: z.string(), from: z.number().int(), to: z.number().int(), diff: z.string(), added: z.number().int(), removed: z.number().int() });

/** What a rollback did to the settings rows (see RestoreReport). */
export const RestoreView = z.object({ restored: z.array(z.string()), notRestored: z.array(z.object({ target: z.string(), reason: z.string() })) });

export const ApplyView = z.object({
  cluster: z.string(),
  /** False when the rendered config equals the current version: nothing was published. */
  published: z.boolean(),
  version: VersionView,
  diff: z.string(),
  checkOutput: z.string(),
  /** Rollbacks only: the settings set back to the version's, and those that now diverge from it. */
  restored: RestoreView.optional(),
});

export const VersionPage = z.object({ items: z.array(VersionView), nextCursor: z.string().optional() });

/** Where a cluster's automatic re-publication stands. */
export const PublishStatus = z.object({
  published: VersionView.nullable(),
  /** The last automatic re-render the real program refused; null once one succeeds. */
  lastError: z.object({ at: z.string(), reason: z.string(), output: z.string() }).nullable(),
});
