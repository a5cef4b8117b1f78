/** Small helpers shared by route files. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { NodePath } from '@canopy/core';

/** `{ path }` URL parameter holding a dotted node path. */
export const PathParams = z.strictObject({ path: NodePath });

/** The If-Match header, if any (weak/strong forms compared as sent). */
export function ifMatch(req: FastifyRequest): string | undefined {
  const v = req.headers['if-match'];
  return typeof v === 'string' ? v : undefined;
}

/** Set the ETag header and pass the body through. */
export function withEtag<T>(reply: FastifyReply, etag: string, body: T): T {
  void reply.header('etag', etag);
  return body;
}
