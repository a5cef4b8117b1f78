/**
 * Blobs in an S3-compatible bucket (AWS, MinIO, Ceph RGW, s3rver): what lets several replicas serve
 * the same artifacts. Keys are `<prefix>blobs/<sha256>`, so any replica finds a blob from its row alone.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { BlobStore } from './store.ts';

export interface S3Options {
  bucket: string;
  /** `http://127.0.0.1:9000` for a self-hosted server; unset for AWS itself. */
  endpoint?: string | undefined;
  region: string;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  /** Key prefix inside the bucket (`canopy/`), so one bucket can hold other things too. */
  prefix: string;
  /** `bucket` in the path rather than the host name: what self-hosted servers usually need. */
  forcePathStyle: boolean;
}

/** A blob store over one bucket. */
export function createS3Store(opts: S3Options): BlobStore {
  const client = new S3Client({
    region: opts.region,
    forcePathStyle: opts.forcePathStyle,
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.accessKeyId && opts.secretAccessKey ? { credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey } } : {}),
    // The SDK's default adds CRC32 checksums to every upload; some S3-compatible servers refuse them,
    // and the content is already named by its sha256.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = opts.bucket;
  const key = (sha: string) => `${opts.prefix}blobs/${sha}`;
  const has = async (sha: string): Promise<boolean> => {
    try {
      await client.send(new HeadObjectCommand({ Bucket, Key: key(sha) }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  };
  return {
    kind: 's3',
    has,
    async put(sha256, file, size) {
      if (await has(sha256)) return;
      await client.send(new PutObjectCommand({ Bucket, Key: key(sha256), Body: createReadStream(file), ContentLength: size, ContentType: 'application/octet-stream' }));
    },
    async read(sha256, range) {
      const out = await client.send(new GetObjectCommand({ Bucket, Key: key(sha256), ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }));
      return out.Body as Readable;
    },
    async delete(sha256) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: key(sha256) }));
    },
    async close() {
      client.destroy();
    },
  };
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}
