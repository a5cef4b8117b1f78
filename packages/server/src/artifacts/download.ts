/**
 * Serving a version's bytes the way download tools and resuming clients expect (RFC 9110):
 * the strong ETag is the sha256, one byte range is honoured (206), If-Range resumes only the same
 * content, If-None-Match answers 304, and Repr-Digest (RFC 9530) lets a client check what it got.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Readable, Transform } from 'node:stream';
import { nameOf, parseRange, type ArtifactView, type ByteRange } from '@canopy/core';
import { problem } from '../http/errors.ts';

/** Answer `req` with the artifact's bytes (or the range it asked for). */
export async function sendArtifact(req: FastifyRequest, reply: FastifyReply, meta: ArtifactView, open: (range?: ByteRange) => Promise<Readable>): Promise<FastifyReply> {
  const etag = `"${meta.sha256}"`;
  void reply
    .header('etag', etag)
    .header('accept-ranges', 'bytes')
    .header('cache-control', 'private, max-age=31536000, immutable')
    .header('repr-digest', `sha-256=:${Buffer.from(meta.sha256, 'hex').toString('base64')}:`)
    .header('content-disposition', `attachment; filename="${nameOf(meta.nodePath)}-${meta.version}.tar.gz"`);
  if (matchesAny(req.headers['if-none-match'], etag)) return reply.status(304).send();

  const ifRange = req.headers['if-range'];
  // If-Range with another ETag (or a date: versions have no modification time to compare) means the
  // client's partial copy is of other content: send it all again.
  const rangeHeader = ifRange === undefined || ifRange === etag ? header(req.headers.range) : undefined;
  const range = parseRange(rangeHeader, meta.size);
  if (range === 'unsatisfiable') {
    const p = { ...problem('validation_failed', `range ${rangeHeader} is outside the artifact's ${meta.size} bytes`), status: 416, title: 'range not satisfiable' };
    return reply.status(416).header('content-range', `bytes */${meta.size}`).type('application/problem+json').send(p);
  }
  const length = range ? range.end - range.start + 1 : meta.size;
  if (range) void reply.header('content-range', `bytes ${range.start}-${range.end}/${meta.size}`);
  // An empty stream, not an empty body: Fastify's HEAD handling keeps the Content-Length of a stream, and sets 0 otherwise.
  if (req.method === 'HEAD') return reply.status(range ? 206 : 200).header('content-length', length).send(Readable.from([]));
  const body = exactly(await open(range), length, meta);
  void reply.type('application/octet-stream');
  return reply.status(range ? 206 : 200).header('content-length', length).send(body);
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function matchesAny(v: string | string[] | undefined, etag: string): boolean {
  const h = header(v);
  if (h === undefined) return false;
  return h.trim() === '*' || h.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/**
 * Pass `length` bytes through, failing the stream when the store gives fewer or more: the socket is
 * then cut, so the client sees a broken download at once (and resumes or refuses it) instead of
 * waiting on a Content-Length that will never be met.
 */
function exactly(body: Readable, length: number, meta: ArtifactView): Readable {
  let seen = 0;
  const guard = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > length) return done(new Error(`the stored blob of ${meta.ref} is longer than its ${meta.size} bytes`));
      done(null, chunk);
    },
    flush(done) {
      done(seen === length ? null : new Error(`the stored blob of ${meta.ref} ended after ${seen} of ${length} bytes`));
    },
  });
  body.on('error', (err) => guard.destroy(err));
  return body.pipe(guard);
}
