/** HTTP routes for login, users, groups, tokens, roles and grants. */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  AuthLogEntryView,
  AuthLogQuery,
  CreateGrantInput,
  CreateGroupInput,
  CreateRoleInput,
  CreateTokenInput,
  CreateUserInput,
  ForceQuery,
  GrantView,
  ListTokensQuery,
  LoginInput,
  NewTokenView,
  OPERATIONS,
  PatchRoleInput,
  PatchUserInput,
  RoleName,
  RoleView,
  SetMembersInput,
  TokenView,
  UserListItem,
  UserView,
  Username,
  GroupName,
  QueryBool,
  pageOf,
} from '@canopy/core';
import { SESSION_COOKIE, actorOf, secretOf } from '../http/auth.ts';
import { PathParams } from '../http/route-helpers.ts';
import type { AuthService } from './service.ts';

const IdParams = z.strictObject({ id: z.coerce.number().int().positive() });

/** Routes under /api/v1 for accounts and permissions. */
export function authRoutes(auth: AuthService): FastifyPluginAsyncZod {
  return async (app) => {
    // Failed attempts are throttled per address and user name inside auth.login (login-limiter.ts);
    // a refusal's Retry-After comes from the error, in http/errors.ts.
    app.post('/auth/login', { config: { public: true }, schema: { tags: ['auth'], body: LoginInput, security: [] } }, async (req, reply) => {
      const s = await auth.login(req.body.username, req.body.password, { address: req.ip, userAgent: req.headers['user-agent'] ?? '' });
      void reply.setCookie(SESSION_COOKIE, s.token, { httpOnly: true, sameSite: 'strict', path: '/', expires: new Date(s.expiresAt), secure: req.protocol === 'https' });
      return s;
    });

    app.post('/auth/logout', { schema: { tags: ['auth'] } }, async (req, reply) => {
      const secret = secretOf(req);
      if (secret && req.principal?.via === 'session') await auth.logout(secret);
      return reply.clearCookie(SESSION_COOKIE, { path: '/' }).status(204).send();
    });

    app.get('/auth/me', { schema: { tags: ['auth'], response: { 200: UserView } } }, async (req) => auth.me(actorOf(req)));
    app.get('/auth/log', { schema: { tags: ['auth'], querystring: AuthLogQuery, response: { 200: pageOf(AuthLogEntryView) } } }, async (req) => auth.authLog(actorOf(req), req.query));

    app.get('/users', { schema: { tags: ['auth'], response: { 200: z.object({ items: z.array(UserListItem) }) } } }, async (req) => ({ items: await auth.listUsers(actorOf(req)) }));
    app.post('/users', { schema: { tags: ['auth'], body: CreateUserInput, response: { 201: UserView } } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.requireSuperuser(actor, 'create users');
      return reply.status(201).send(await auth.createUser(actor, req.body));
    });
    app.patch('/users/:username', { schema: { tags: ['auth'], params: z.strictObject({ username: Username }), body: PatchUserInput, response: { 200: UserView } } }, async (req) => {
      const actor = actorOf(req);
      // Users may change their own password, name and SSH keys; everything else is for superusers.
      const self = actor.kind === 'user' && actor.name === req.params.username && req.body.superuser === undefined && req.body.disabled === undefined;
      if (!self) auth.requireSuperuser(actor, 'change other users');
      // The session a user changes their own password on survives the change; their others end.
      const secret = req.principal?.via === 'session' ? secretOf(req) : undefined;
      return auth.patchUser(actor, req.params.username, req.body, { secret, address: req.ip });
    });
    app.delete('/users/:username', { schema: { tags: ['auth'], params: z.strictObject({ username: Username }) } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.requireSuperuser(actor, 'delete users');
      await auth.deleteUser(actor, req.params.username);
      return reply.status(204).send();
    });

    app.get('/groups', { schema: { tags: ['auth'] } }, async (req) => {
      actorOf(req);
      return { items: await auth.listGroups() };
    });
    app.post('/groups', { schema: { tags: ['auth'], body: CreateGroupInput } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.requireSuperuser(actor, 'create groups');
      return reply.status(201).send(await auth.createGroup(actor, req.body));
    });
    app.put('/groups/:name/members', { schema: { tags: ['auth'], params: z.strictObject({ name: GroupName }), body: SetMembersInput } }, async (req) => {
      const actor = actorOf(req);
      auth.requireSuperuser(actor, 'change group members');
      return auth.setMembers(actor, req.params.name, req.body.members);
    });
    app.delete('/groups/:name', { schema: { tags: ['auth'], params: z.strictObject({ name: GroupName }), querystring: ForceQuery } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.requireSuperuser(actor, 'delete groups');
      await auth.deleteGroup(actor, req.params.name, req.query.force === true);
      return reply.status(204).send();
    });

    // One's own tokens; ?user=NAME or ?all=true lists someone else's or everyone's (superusers).
    app.get('/tokens', { schema: { tags: ['auth'], querystring: ListTokensQuery, response: { 200: pageOf(TokenView) } } }, async (req) => auth.listTokens(actorOf(req), req.query));
    app.post('/tokens', { schema: { tags: ['auth'], body: CreateTokenInput, response: { 201: NewTokenView } } }, async (req, reply) => reply.status(201).send(await auth.createToken(actorOf(req), req.body)));
    app.delete('/tokens/:id', { schema: { tags: ['auth'], params: IdParams } }, async (req, reply) => {
      await auth.revokeToken(actorOf(req), req.params.id);
      return reply.status(204).send();
    });

    app.get('/operations', { schema: { tags: ['auth'] } }, async () => ({ items: OPERATIONS }));
    app.get('/roles', { schema: { tags: ['auth'], response: { 200: z.object({ items: z.array(RoleView) }) } } }, async (req) => {
      actorOf(req);
      return { items: auth.roles() };
    });
    app.post('/roles', { schema: { tags: ['auth'], body: CreateRoleInput } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.requireSuperuser(actor, 'create roles');
      return reply.status(201).send(await auth.createRole(actor, req.body));
    });
    app.patch('/roles/:name', { schema: { tags: ['auth'], params: z.strictObject({ name: RoleName }), body: PatchRoleInput, response: { 200: RoleView } } }, async (req) => {
      const actor = actorOf(req);
      auth.requireSuperuser(actor, 'change roles');
      return auth.patchRole(actor, req.params.name, req.body);
    });
    app.delete('/roles/:name', { schema: { tags: ['auth'], params: z.strictObject({ name: RoleName }), querystring: ForceQuery } }, async (req, reply) => {
      const actor = actorOf(req);
      auth.requireSuperuser(actor, 'delete roles');
      await auth.deleteRole(actor, req.params.name, req.query.force === true);
      return reply.status(204).send();
    });

    app.get('/grants', { schema: { tags: ['auth'], querystring: z.strictObject({ trashed: QueryBool.optional() }), response: { 200: z.object({ items: z.array(GrantView) }) } } }, async (req) => {
      // The one place grants on trashed top-level nodes show up: nobody below the superusers governs them.
      auth.requireSuperuser(actorOf(req), 'list every grant');
      return { items: await auth.listGrants({ trashed: req.query.trashed }) };
    });
    app.post('/grants', { schema: { tags: ['auth'], body: CreateGrantInput, response: { 201: GrantView } } }, async (req, reply) => reply.status(201).send(await auth.grant(actorOf(req), req.body)));
    app.delete('/grants/:id', { schema: { tags: ['auth'], params: IdParams } }, async (req, reply) => {
      await auth.revoke(actorOf(req), req.params.id);
      return reply.status(204).send();
    });
    app.get('/nodes/:path/grants', { schema: { tags: ['auth'], params: PathParams, response: { 200: z.object({ items: z.array(GrantView) }) } } }, async (req) => {
      auth.nodeFor(actorOf(req), 'grant.read', req.params.path);
      return { items: await auth.grantsFor(req.params.path) };
    });
  };
}
