/** The one place where errors become HTTP answers: application/problem+json with a stable code. */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { CanopyError, MovedError, type ErrorCode, type FieldIssue } from '@canopy/core';

/** A new error code without a status fails to compile. */
export const STATUS_OF: Record<ErrorCode, number> = {
  validation_failed: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  moved: 404,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  config_invalid: 422,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  issues?: FieldIssue[];
  [key: string]: unknown;
}

/** Build a problem document. */
export function problem(code: ErrorCode, detail: string, extra: Record<string, unknown> = {}): Problem {
  const status = STATUS_OF[code];
  return { type: `https://canopy.dev/errors/${code}`, title: code.replaceAll('_', ' '), status, code, detail, ...extra };
}

/** Send a problem document with its status. */
export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.status(p.status).type('application/problem+json').send(p);
}

const PG_UNIQUE_VIOLATION = '23505';
const PG_FK_VIOLATION = '23503';
/**
 * Data exceptions that only a value from the request can cause (too long, out of range, malformed
 * text or time, a character the database cannot store). Other class-22 errors, such as a division
 * by zero, are the server's own bugs and stay 500s.
 */
const PG_BAD_VALUE = new Set(['22001', '22003', '22007', '22008', '22021', '22025', '22P02', '22P05', '2201B']);

/** The SQLSTATE of a database error; drizzle wraps driver errors, so look through `cause`. */
function sqlState(err: unknown): string | undefined {
  for (let e = err, hops = 0; e && typeof e === 'object' && hops < 5; e = (e as { cause?: unknown }).cause, hops++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

function toProblem(err: unknown, req: FastifyRequest): Problem {
  if (err instanceof CanopyError) return problem(err.code, err.message, err.details);
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = err.validationContext ?? 'request';
    const issues = err.validation.map((v) => {
      const path: (string | number)[] = [where, ...String(v.instancePath ?? '').split('/').filter(Boolean)];
      // A bad record key: zod says only "Invalid key in record"; the reason is in its nested issues.
      const nested = v.keyword === 'invalid_key' ? (v.params as { issues?: { message: string }[] }).issues : undefined;
      if (nested?.length) return { path, message: `key ${JSON.stringify(String(path.at(-1)))}: ${nested.map((i) => i.message).join('; ')}` };
      return { path, message: v.message ?? 'invalid' };
    });
    return problem('validation_failed', `invalid ${where}: ${issues.map((i) => `${i.path.slice(1).join('.') || where} ${i.message}`).join('; ')}`, { issues });
  }
  const fe = err as Partial<FastifyError> & { code?: string };
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem('payload_too_large', 'request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      const type = req.headers['content-type'];
      return type
        ? problem('unsupported_media_type', `Content-Type ${JSON.stringify(type.split(';')[0]?.trim())} is not accepted here: send application/json`)
        : problem('unsupported_media_type', 'a request body needs a Content-Type header: send application/json');
    }
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return problem('validation_failed', fe.message ?? 'malformed body');
  }
  const state = sqlState(err);
  if (state === PG_UNIQUE_VIOLATION) return problem('conflict', 'the change conflicts with an existing record');
  if (state === PG_FK_VIOLATION) return problem('conflict', 'the change refers to a record that no longer exists');
  if (state && PG_BAD_VALUE.has(state)) return problem('validation_failed', 'a value in the request cannot be stored (out of range or not valid text)');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    if (err instanceof SyntaxError || fe.statusCode === 400) return problem('validation_failed', fe.message ?? 'bad request');
  }
  req.log.error({ err }, 'unhandled error');
  return problem('internal', 'internal error; see the server log', { requestId: req.id });
}

/**
 * Seconds a refused caller should wait, when the error says: a `rate_limited` error may carry a
 * numeric `retryAfterSeconds` (auth's LoginThrottledError does). Core has no such typed error yet.
 */
function retryAfterOf(err: unknown): number | undefined {
  if (!(err instanceof CanopyError) || err.code !== 'rate_limited') return undefined;
  const s = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  return typeof s === 'number' && Number.isFinite(s) && s > 0 ? Math.ceil(s) : undefined;
}

/**
 * The request's URL with the old node path (a path segment or a query value) swapped for the new
 * one; undefined when the old path came in the body, where no URL can say it.
 */
function movedLocation(url: string, err: MovedError): string | undefined {
  const from = String(err.details['key'] ?? '');
  const [path = '', query] = url.split('?', 2);
  const same = (seg: string) => {
    try {
      return decodeURIComponent(seg) === from;
    } catch {
      return false;
    }
  };
  const segs = path.split('/');
  const params = new URLSearchParams(query ?? '');
  const hits = segs.filter(same).length + [...params.values()].filter((v) => v === from).length;
  if (hits === 0) return undefined;
  const swapped = segs.map((seg) => (same(seg) ? err.movedTo : seg)).join('/');
  for (const [k, v] of [...params]) if (v === from) params.set(k, err.movedTo);
  return query === undefined ? swapped : `${swapped}?${params.toString()}`;
}

/** Install the error and not-found handlers on `app`. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const wait = retryAfterOf(err);
    if (wait !== undefined) void reply.header('retry-after', String(wait));
    const moved = err instanceof MovedError ? movedLocation(req.url, err) : undefined;
    if (moved !== undefined) void reply.header('location', moved);
    return sendProblem(reply, toProblem(err, req));
  });
  app.setNotFoundHandler((req, reply) => sendProblem(reply, problem('not_found', `no route for ${req.method} ${req.url.split('?')[0]}`)));
}
