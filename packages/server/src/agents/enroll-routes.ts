/**
 * POST /api/v1/agent/enroll: the agent on a new machine trades its install request's enrollment
 * token for a machine credential. The route is public — the token in the body is the authority,
 * checked by the enrollment itself — so, like the session route, it sits outside user sessions.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { EnrolledView, EnrollInput, type Enrollment } from '../provisioning/index.ts';

const tags = ['agents'];

/** The enrollment exchange (no user session; the enrollment token authenticates). */
export function enrollRoutes(enrollment: Enrollment): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/agent/enroll', { config: { public: true }, schema: { tags, security: [], body: EnrollInput, response: { 201: EnrolledView } } }, async (req, reply) => {
      return reply.status(201).send(await enrollment.enroll(req.body));
    });
  };
}
