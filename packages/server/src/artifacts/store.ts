/**
 * Where artifact bytes live: blobs named by their sha256, in the data dir or an S3 bucket (s3.ts).
 * An upload is first spooled to a local file while it is hashed, so a body whose digest is wrong,
 * too large or cut short never reaches the store.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CanopyError, type ByteRange } from '@canopy/core';

const READ_CHUNK = 1024 * 1024;

export interface BlobStore {
  readonly kind: 'fs' | 's3';
  /** Store the spooled file under `sha256`; a blob already there is kept as it is. */
  put(sha256: string, file: string, size: number): Promise<void>;
  has(sha256: string): Promise<boolean>;
  /** The blob's bytes, or `range` of them. */
  read(sha256: string, range?: ByteRange): Promise<Readable>;
  delete(sha256: string): Promise<void>;
  /** Free resources (S3 client sockets). */
  close(): Promise<void>;
}

export interface Spooled {
  file: string;
  sha256: string;
  size: number;
  /** Remove the spool file (idempotent). */
  discard(): Promise<void>;
}

/** Copy `body` to a new file in `dir` while hashing it; more than `maxBytes` is refused (413) and nothing kept. */
export async function spool(body: NodeJS.ReadableStream, dir: string, maxBytes: number): Promise<Spooled> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${randomUUID()}.part`);
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > maxBytes) return done(new CanopyError('payload_too_large', `an artifact may be at most ${maxBytes} bytes (CANOPY_ARTIFACTS_MAX_BYTES)`, { maxBytes }));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
  try {
    // `pipe`, not `pipeline`, from the body: a refusal (too large) must not destroy the request, whose
    // socket the 413 answer still has to go out on; a client that aborts still fails the copy.
    const source = body as Readable;
    const onAbort = (err: Error) => meter.destroy(err);
    source.once('error', onAbort);
    source.pipe(meter);
    await pipeline(meter, out).finally(() => {
      source.unpipe(meter);
      source.off('error', onAbort);
    });
    // On disk before the row that names it commits: a crash right after must not leave a row without bytes.
    const fh = await open(file, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }
  return { file, sha256: hash.digest('hex'), size, discard: () => rm(file, { force: true }) };
}

/** Remove spool files older than `ageMs` that a crash mid-upload left behind; returns how many. */
export async function cleanSpool(dir: string, ageMs: number, now = Date.now()): Promise<number> {
  let removed = 0;
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    if (!f.endsWith('.part')) continue;
    const st = await stat(join(dir, f)).catch(() => undefined);
    if (st && now - st.mtimeMs > ageMs) {
      await rm(join(dir, f), { force: true });
      removed++;
    }
  }
  return removed;
}

/** Blobs under `root/blobs/ab/abcdef…`: the default store, in the data dir. */
export function createFsStore(root: string): BlobStore {
  const blobPath = (sha: string) => join(root, 'blobs', sha.slice(0, 2), sha);
  return {
    kind: 'fs',
    async put(sha256, file) {
      const dest = blobPath(sha256);
      if (await exists(dest)) return;
      await mkdir(join(root, 'blobs', sha256.slice(0, 2)), { recursive: true });
      // Rename, not copy: the spool dir is inside the root, so this is one atomic step on one filesystem.
      await rename(file, dest).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EXDEV') throw err;
        const tmp = `${dest}.${randomUUID()}.tmp`;
        await pipeline(createReadStream(file), createWriteStream(tmp, { mode: 0o600 }));
        await rename(tmp, dest);
      });
    },
    has: (sha256) => exists(blobPath(sha256)),
    async read(sha256, range) {
      // 1 MiB reads: a 50 MB download is 50 reads and socket writes, not 800 of the default 64 KiB.
      const s = createReadStream(blobPath(sha256), { highWaterMark: READ_CHUNK, ...(range ? { start: range.start, end: range.end } : {}) });
      // Surface a missing blob as an error of this call, not of the response already under way.
      await new Promise<void>((resolve, reject) => {
        s.once('open', () => resolve());
        s.once('error', reject);
      });
      return s;
    },
    async delete(sha256) {
      await unlink(blobPath(sha256)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    },
    async close() {},
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
