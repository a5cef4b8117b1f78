/**
 * HTTP routes of SSH access:
 *   GET    /nodes/{path}/ssh/access                  who may log in and sudo here, and through which grant (grant.read)
 *   GET    /nodes/{path}/ssh/settings                own and inherited settings, break-glass keys (machine.read)
 *   PUT    /nodes/{path}/ssh/settings                {loginAs?, cacheSeconds?} (grant.write)
 *   POST   /nodes/{path}/ssh/break-glass             a new break-glass key, private key shown once (grant.write)
 *   DELETE /nodes/{path}/ssh/break-glass/{id}        revoke it (grant.write)
 *   GET    /nodes/{path}/ssh/logins                  logins on machines below (audit.read)
 *   GET    /ssh/logins?under&user                    the same, or one user's own logins
 *   GET    /machines/{hostname}/ssh                  the machine's `ssh` document (machine.read on one of its nodes)
 *   GET    /machines/{hostname}/ssh/login            the account the caller logs in as there, and the host CA line
 *   POST   /ssh/certificates {publicKey, validSeconds?}  sign the caller's key (default 8 h)
 *   GET    /ssh/certificates?user                    one's certificates (anyone's for a superuser)
 *   DELETE /ssh/certificates/{serial}                revoke (its owner or a superuser): the agents' KRL
 *   GET    /ssh/known-hosts                          `@cert-authority * <host CA>` for known_hosts
 */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ForbiddenError, Hostname, LoginQuery, LoginView, NewSshCert, NodePath, NotFoundError, SshAccessView, SshCertInput, SshCertView, SshDoc, SshLoginView, SshSettingsInput, SshSettingsView, Username, pageOf } from '@canopy/core';
import type { AuthService } from '../auth/index.ts';
import { actorOf } from '../http/auth.ts';
import type { MachineService } from '../machines/index.ts';
import type { SshService } from './service.ts';

const tags = ['ssh'];
const PathParams = z.strictObject({ path: NodePath });
const BreakGlassParams = z.strictObject({ path: NodePath, id: z.coerce.number().int().min(1).max(2 ** 31 - 1) });
const NewBreakGlass = z.object({ id: z.number(), node: z.string(), account: z.string(), fingerprint: z.string(), publicKey: z.string(), privateKey: z.string() });
const NodeLoginQuery = LoginQuery.omit({ under: true });

/** SSH access routes; authorization by grants on the node as listed above. */
export function sshRoutes(ssh: SshService, auth: AuthService, machines: MachineService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/nodes/:path/ssh/access', { schema: { tags, params: PathParams, response: { 200: SshAccessView } } }, async (req) => {
      auth.nodeFor(actorOf(req), 'grant.read', req.params.path);
      return ssh.accessOf(req.params.path);
    });
    app.get('/nodes/:path/ssh/settings', { schema: { tags, params: PathParams, response: { 200: SshSettingsView } } }, async (req) => {
      auth.nodeFor(actorOf(req), 'machine.read', req.params.path);
      return ssh.settingsOf(req.params.path);
    });
    app.put('/nodes/:path/ssh/settings', { schema: { tags, params: PathParams, body: SshSettingsInput, response: { 200: SshSettingsView } } }, async (req) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'grant.write', req.params.path);
      return ssh.setSettings(actor, req.params.path, req.body);
    });
    app.post('/nodes/:path/ssh/break-glass', { schema: { tags, params: PathParams, response: { 201: NewBreakGlass } } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'grant.write', req.params.path);
      return reply.status(201).send(await ssh.createBreakGlass(actor, req.params.path));
    });
    app.delete('/nodes/:path/ssh/break-glass/:id', { schema: { tags, params: BreakGlassParams } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.nodeFor(actor, 'grant.write', req.params.path);
      await ssh.revokeBreakGlass(actor, req.params.path, req.params.id);
      return reply.status(204).send();
    });
    app.get('/nodes/:path/ssh/logins', { schema: { tags, params: PathParams, querystring: NodeLoginQuery, response: { 200: pageOf(LoginView) } } }, async (req) => {
      const node = auth.nodeFor(actorOf(req), 'audit.read', req.params.path);
      return ssh.logins(req.query, node);
    });
    app.get('/ssh/logins', { schema: { tags, querystring: LoginQuery, response: { 200: pageOf(LoginView) } } }, async (req) => {
      const actor = actorOf(req);
      if (req.query.under !== undefined) return ssh.logins(req.query, auth.nodeFor(actor, 'audit.read', req.query.under));
      // Without a subtree: everything for a superuser, one's own logins for anyone else.
      if (!actor.superuser && req.query.user !== actor.name) throw new ForbiddenError("read other users' logins without --under", 'canopy');
      return ssh.logins(req.query, undefined);
    });
    app.get('/machines/:hostname/ssh', { schema: { tags, params: z.strictObject({ hostname: Hostname }), response: { 200: SshDoc } } }, async (req) => {
      const actor = actorOf(req);
      const m = machines.model.byHostname(req.params.hostname);
      const readable = m?.nodeIds.some((id) => auth.can(actor, 'machine.read', id)) || (m !== undefined && actor.superuser);
      if (!m || !readable) throw new NotFoundError('machine', req.params.hostname);
      return ssh.docOf(m.id);
    });
    app.get('/machines/:hostname/ssh/login', { schema: { tags, params: z.strictObject({ hostname: Hostname }), response: { 200: SshLoginView } } }, async (req) => ssh.loginFor(actorOf(req), req.params.hostname));
    app.post('/ssh/certificates', { schema: { tags, body: SshCertInput, response: { 201: NewSshCert } } }, async (req, reply) => reply.status(201).send(await ssh.signCertificate(actorOf(req), req.body)));
    app.get('/ssh/certificates', { schema: { tags, querystring: z.strictObject({ user: Username.optional() }), response: { 200: z.object({ items: z.array(SshCertView) }) } } }, async (req) => ssh.certificates(actorOf(req), req.query.user));
    app.delete('/ssh/certificates/:serial', { schema: { tags, params: z.strictObject({ serial: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }), response: { 200: SshCertView } } }, async (req) => ssh.revokeCertificate(actorOf(req), req.params.serial));
    app.get('/ssh/known-hosts', { schema: { tags } }, async (_req, reply) => reply.type('text/plain; charset=utf-8').send(ssh.knownHosts()));
  };
}
