/**
 * Download an artifact from the control center into the agent's cache, resuming a partial copy with
 * Range + If-Range (so a cut link or a restarted agent fetches only what is missing), then verify its
 * sha256 against the digest the task carries. A copy that does not verify is refused, with why.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/** Why an artifact was refused: its bytes are not the ones named, or fewer, or it cannot be had. */
export type RefusalReason = 'corrupt' | 'truncated' | 'unavailable' | 'invalid';

/** An artifact the agent will not use; `reason` says why, in words a deployment shows its operator. */
export class ArtifactRefused extends Error {
  readonly reason: RefusalReason;
  constructor(reason: RefusalReason, message: string) {
    super(`artifact refused (${reason}): ${message}`);
    this.reason = reason;
  }
}

export interface ArtifactSource {
  /** Full URL of the download (`https://cc:7070/api/v1/artifacts/corp.pay.api/1.4.2`). */
  url: string;
  /** The digest the deployment names: the only one trusted (not the server's headers). */
  sha256: string;
  /** Expected size, when known: fewer bytes is `truncated`, not `corrupt`. */
  size?: number | undefined;
  /** The machine credential (`cnm_…`). */
  token?: string | undefined;
  /** PEM of the CA that signed the control center's certificate. */
  caPem?: string | undefined;
}

export interface DownloadOptions {
  /** Where verified artifacts and partial downloads are kept (`<state dir>/artifacts`). */
  cacheDir: string;
  signal?: AbortSignal | undefined;
  /** Attempts after a cut connection, each resuming where the last stopped; default 5. */
  attempts?: number | undefined;
  /** Called as bytes arrive (for progress in a task's message). */
  onProgress?: ((have: number, total: number | undefined) => void) | undefined;
}

export interface Downloaded {
  /** The verified file (named by its sha256). */
  file: string;
  /** Bytes fetched over the network in this call (0 when the cache already had it). */
  fetched: number;
  /** Byte offset the first request resumed from (0: from the start). */
  resumedFrom: number;
}

/** Fetch (or find in the cache), verify and return the artifact named by `src.sha256`. */
export async function downloadArtifact(src: ArtifactSource, opts: DownloadOptions): Promise<Downloaded> {
  if (!/^[0-9a-f]{64}$/.test(src.sha256)) throw new ArtifactRefused('invalid', `'${src.sha256}' is not a sha256`);
  await mkdir(opts.cacheDir, { recursive: true, mode: 0o700 });
  const done = join(opts.cacheDir, `${src.sha256}.artifact`);
  const part = join(opts.cacheDir, `${src.sha256}.part`);
  // The cache is checked again on every use: a disk that flipped a bit must not ship a release.
  if ((await sizeOf(done)) !== undefined) {
    if (!(await check(done, src))) return { file: done, fetched: 0, resumedFrom: 0 };
    await rm(done, { force: true });
  }

  let fetched = 0;
  let resumedFrom: number | undefined;
  let freshTried = false;
  for (;;) {
    const r = await fetchInto(src, part, opts);
    fetched += r.fetched;
    resumedFrom ??= r.resumedFrom;
    const problem = await check(part, src, r.sha256);
    if (!problem) {
      await rename(part, done);
      return { file: done, fetched, resumedFrom };
    }
    await rm(part, { force: true });
    // A resumed copy may have joined two different bodies: try once from nothing before refusing.
    if (r.resumedFrom > 0 && !freshTried) {
      freshTried = true;
      continue;
    }
    throw problem;
  }
}

/** Why the file is not the artifact `src` names, or undefined when it is; `hashed`: its sha256, when already known. */
export async function check(file: string, src: Pick<ArtifactSource, 'sha256' | 'size'>, hashed?: string): Promise<ArtifactRefused | undefined> {
  const size = (await sizeOf(file)) ?? 0;
  if (src.size !== undefined && size < src.size) return new ArtifactRefused('truncated', `got ${size} of ${src.size} bytes`);
  let got = hashed;
  if (got === undefined) {
    const hash = createHash('sha256');
    await pipeline(createReadStream(file), hash);
    got = hash.digest('hex');
  }
  if (got !== src.sha256) return new ArtifactRefused('corrupt', `its sha256 is ${got}, not the expected ${src.sha256} (${size} bytes)`);
  return undefined;
}

/** Append the missing bytes to `part`, retrying cut connections; returns what came over the network. */
async function fetchInto(src: ArtifactSource, part: string, opts: DownloadOptions): Promise<{ fetched: number; resumedFrom: number; sha256?: string }> {
  const attempts = opts.attempts ?? 5;
  let fetched = 0;
  let first: number | undefined;
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    opts.signal?.throwIfAborted();
    const have = (await sizeOf(part)) ?? 0;
    first ??= have;
    if (src.size !== undefined && have === src.size) return { fetched, resumedFrom: first };
    try {
      const res = await get(src, have, opts.signal);
      if (res.statusCode === 416) {
        // Nothing past what we hold: complete (or longer than the artifact, which check() refuses).
        res.resume();
        return { fetched, resumedFrom: first };
      }
      if (res.statusCode !== 200 && res.statusCode !== 206) {
        const text = await readSome(res);
        const permanent = res.statusCode === 404 || res.statusCode === 401 || res.statusCode === 403 || res.statusCode === 400;
        const err = new ArtifactRefused('unavailable', `${src.url} answered ${res.statusCode}: ${text}`);
        if (permanent) throw err;
        lastError = err;
        continue;
      }
      const resumed = res.statusCode === 206 && contentRangeStart(res) === have;
      if (!resumed) first = 0;
      const total = totalOf(res, resumed ? have : 0);
      let now = resumed ? have : 0;
      // Hashed on the way in when the file is written from its first byte in one piece: no second read.
      const hash = resumed ? undefined : createHash('sha256');
      res.on('data', (c: Buffer) => {
        hash?.update(c);
        now += c.length;
        fetched += c.length;
        opts.onProgress?.(now, total);
      });
      await pipeline(res, createWriteStream(part, { flags: resumed ? 'a' : 'w', mode: 0o600 }));
      if (res.complete) return { fetched, resumedFrom: first, ...(hash ? { sha256: hash.digest('hex') } : {}) };
      lastError = new Error('the connection closed before the end of the body');
    } catch (err) {
      if (err instanceof ArtifactRefused || opts.signal?.aborted) throw err;
      lastError = err as Error;
    }
    await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
  }
  const have = (await sizeOf(part)) ?? 0;
  if (src.size !== undefined && have < src.size) throw new ArtifactRefused('truncated', `got ${have} of ${src.size} bytes after ${attempts} attempts (${lastError?.message ?? 'no answer'})`);
  throw new ArtifactRefused('unavailable', `${src.url}: ${lastError?.message ?? 'no answer'} after ${attempts} attempts`);
}

const IDLE_MS = 30_000;

function get(src: ArtifactSource, from: number, signal: AbortSignal | undefined): Promise<IncomingMessage> {
  const url = new URL(src.url);
  const headers: Record<string, string> = { accept: 'application/octet-stream' };
  if (src.token) headers['authorization'] = `Bearer ${src.token}`;
  if (from > 0) {
    headers['range'] = `bytes=${from}-`;
    // Resume only the same content; anything else answers 200 with the whole body.
    headers['if-range'] = `"${src.sha256}"`;
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers, ...(src.caPem ? { ca: src.caPem } : {}), ...(signal ? { signal } : {}) }, resolve);
    req.on('error', reject);
    // A stalled connection is a cut one: give up on it and resume on a new one.
    req.setTimeout(IDLE_MS, () => req.destroy(new Error(`no data for ${IDLE_MS / 1000} s`)));
    req.end();
  });
}

function contentRangeStart(res: IncomingMessage): number | undefined {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
  return m ? Number(m[1]) : undefined;
}

function totalOf(res: IncomingMessage, offset: number): number | undefined {
  const m = /\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
  if (m) return Number(m[1]);
  const len = Number(res.headers['content-length']);
  return Number.isFinite(len) ? offset + len : undefined;
}

async function readSome(res: IncomingMessage): Promise<string> {
  let text = '';
  for await (const c of res) {
    if (text.length < 500) text += String(c);
  }
  return text.slice(0, 500);
}

async function sizeOf(path: string): Promise<number | undefined> {
  return stat(path).then(
    (s) => s.size,
    () => undefined,
  );
}
