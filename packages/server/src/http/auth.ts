/** Who is calling: a Bearer token (a user's, or a machine's credential) or the console's session cookie (with CSRF on unsafe methods). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { UnauthenticatedError, ForbiddenError } from '@canopy/core';
import type { Actor } from '../changes/index.ts';
import type { AuthService, Principal } from '../auth/index.ts';
import { MACHINE_SECRET_PREFIX, type AgentService } from '../agents/index.ts';

export const SESSION_COOKIE = 'canopy_session';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** The route answers without credentials. */
    public?: boolean;
  }
}

/** Resolve the caller of every request under `app`; non-public routes require one. */
export function installAuthentication(app: FastifyInstance, auth: AuthService, agents: AgentService): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req) => {
    const header = req.headers.authorization;
    const bearer = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const cookie = req.cookies?.[SESSION_COOKIE];
    const secret = bearer ?? cookie;
    // Machine credentials are Bearer-only: a browser never holds one.
    if (bearer?.startsWith(MACHINE_SECRET_PREFIX)) req.principal = (await agents.authenticate(bearer)) ?? null;
    else if (secret) req.principal = (await auth.authenticate(secret)) ?? null;
    if (header && !bearer) throw new UnauthenticatedError('use "Authorization: Bearer <token>"');
    if (bearer && !req.principal) throw new UnauthenticatedError('invalid or expired token');
    // A cookie rides along on cross-site requests; a custom header cannot, so unsafe cookie requests must
    // echo the session's CSRF token. A cookie holding an API token (no CSRF token) may not write at all.
    if (!bearer && req.principal && !SAFE.has(req.method) && (!req.principal.csrfToken || req.headers['x-csrf-token'] !== req.principal.csrfToken)) {
      throw new ForbiddenError('write without a matching X-CSRF-Token header', req.url.split('?')[0] ?? '');
    }
    if (!req.principal && !req.routeOptions.config?.public) throw new UnauthenticatedError();
  });
}

/** The acting user of an authenticated request. */
export function actorOf(req: FastifyRequest): Actor {
  if (!req.principal) throw new UnauthenticatedError();
  return req.principal.actor;
}

/** The raw secret the request authenticated with (for logout). */
export function secretOf(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : req.cookies?.[SESSION_COOKIE];
}
