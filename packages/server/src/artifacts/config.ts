/** The artifact repository's settings, parsed once from CANOPY_ARTIFACTS_* into a frozen object. */
import { join } from 'node:path';
import { z } from 'zod';
import { ValidationError } from '@canopy/core';
import type { S3Options } from './s3.ts';

const schema = z.object({
  /** Blobs (when not in S3) and upload spool files. Default: `<CANOPY_DATA_DIR>/artifacts`. */
  dir: z.string().min(1),
  /** Largest artifact accepted, in bytes; default 2 GiB. */
  maxBytes: z.coerce.number().int().min(1).default(2 * 1024 ** 3),
  /** Newest versions kept per service; default 20. */
  keepLast: z.coerce.number().int().min(1).default(20),
  /** Versions deployed within this many days are kept too; default 30. */
  keepDeployedDays: z.coerce.number().int().min(0).default(30),
  /** Minutes between retention sweeps over every service; 0: only after each push. Default 60. */
  sweepMinutes: z.coerce.number().int().min(0).default(60),
  /** Setting the bucket switches storage to S3; the other S3 keys then apply. */
  s3Bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name').optional(),
  s3Endpoint: z.url({ protocol: /^https?$/ }).optional(),
  s3Region: z.string().min(1).default('us-east-1'),
  s3AccessKeyId: z.string().min(1).optional(),
  s3SecretAccessKey: z.string().min(1).optional(),
  s3Prefix: z.string().regex(/^([A-Za-z0-9._-]+\/)*$/, 'must be empty or end with "/" (canopy/)').default(''),
  /** Default: true when an endpoint is set (self-hosted servers), false for AWS. */
  s3ForcePathStyle: z.stringbool().optional(),
});

/** Each setting's environment variable. */
const ENV = {
  dir: 'CANOPY_ARTIFACTS_DIR',
  maxBytes: 'CANOPY_ARTIFACTS_MAX_BYTES',
  keepLast: 'CANOPY_ARTIFACTS_KEEP_LAST',
  keepDeployedDays: 'CANOPY_ARTIFACTS_KEEP_DEPLOYED_DAYS',
  sweepMinutes: 'CANOPY_ARTIFACTS_SWEEP_MINUTES',
  s3Bucket: 'CANOPY_ARTIFACTS_S3_BUCKET',
  s3Endpoint: 'CANOPY_ARTIFACTS_S3_ENDPOINT',
  s3Region: 'CANOPY_ARTIFACTS_S3_REGION',
  s3AccessKeyId: 'CANOPY_ARTIFACTS_S3_ACCESS_KEY_ID',
  s3SecretAccessKey: 'CANOPY_ARTIFACTS_S3_SECRET_ACCESS_KEY',
  s3Prefix: 'CANOPY_ARTIFACTS_S3_PREFIX',
  s3ForcePathStyle: 'CANOPY_ARTIFACTS_S3_FORCE_PATH_STYLE',
} as const;

export interface ArtifactOptions {
  dir: string;
  maxBytes: number;
  retention: { keepLast: number; keepDeployedDays: number };
  sweepMinutes: number;
  s3?: S3Options | undefined;
}

/** Read CANOPY_ARTIFACTS_* (and CANOPY_DATA_DIR for the default dir). */
export function artifactOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Readonly<ArtifactOptions> {
  const raw: Record<string, string | undefined> = Object.fromEntries(Object.entries(ENV).map(([key, name]) => [key, env[name]]));
  raw['dir'] ||= join(env['CANOPY_DATA_DIR'] || './data', 'artifacts');
  const parsed = schema
    .refine((c) => (c.s3AccessKeyId === undefined) === (c.s3SecretAccessKey === undefined), { path: ['s3SecretAccessKey'], message: 'CANOPY_ARTIFACTS_S3_ACCESS_KEY_ID and CANOPY_ARTIFACTS_S3_SECRET_ACCESS_KEY go together' })
    .refine((c) => c.s3Bucket !== undefined || (c.s3Endpoint === undefined && c.s3AccessKeyId === undefined), { path: ['s3Bucket'], message: 'CANOPY_ARTIFACTS_S3_* is set without CANOPY_ARTIFACTS_S3_BUCKET' })
    .safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== '')));
  if (!parsed.success) {
    // Named as the operator set them: CANOPY_ARTIFACTS_S3_BUCKET, not s3Bucket.
    const named = (k: PropertyKey) => ENV[String(k) as keyof typeof ENV] ?? String(k);
    throw new ValidationError('invalid artifact storage configuration', parsed.error.issues.map((i) => ({ path: i.path.map(named), message: i.message })));
  }
  const c = parsed.data;
  return Object.freeze({
    dir: c.dir,
    maxBytes: c.maxBytes,
    retention: { keepLast: c.keepLast, keepDeployedDays: c.keepDeployedDays },
    sweepMinutes: c.sweepMinutes,
    s3: c.s3Bucket === undefined ? undefined : {
      bucket: c.s3Bucket,
      endpoint: c.s3Endpoint,
      region: c.s3Region,
      accessKeyId: c.s3AccessKeyId,
      secretAccessKey: c.s3SecretAccessKey,
      prefix: c.s3Prefix,
      forcePathStyle: c.s3ForcePathStyle ?? c.s3Endpoint !== undefined,
    },
  });
}
