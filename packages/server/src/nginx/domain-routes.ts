/**
 * HTTP routes of nginx domains and their delegations. A domain has an owner node:
 * - creating one needs `nginx.write` on the owner named in the body (`owner`); a superuser may
 *   create an unowned one, which only superusers can route from until an owner is set;
 * - changing its ports or certificate needs `nginx.write` on the owner, or on every cluster serving
 *   it (the people running those clusters own its ports and certificate), or superuser;
 * - moving it to another owner, deleting it and delegating URI prefixes need `nginx.write` on
 *   the owner (and on the new owner when moving it), or superuser.
 * Reading domains needs only a login: names and ports are not secret; hidden nodes are not named.
 */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ForbiddenError, NodePath, NotFoundError, ValidationError, locationUriSchema, nginxDomainSchema, type NginxDomainSettings } from '@canopy/core';
import type { Actor } from '../changes/index.ts';
import type { AuthService } from '../auth/index.ts';
import { actorOf } from '../http/auth.ts';
import { iso } from '../tree/index.ts';
import { AnyObject } from './config-routes.ts';
import type { DomainDelegation } from './domain-access.ts';
import type { SettingsRow } from './repo.ts';
import { DomainParams } from './schema.ts';
import type { NginxSettings } from './settings-service.ts';
import { parseWith } from './parse.ts';

const tags = ['nginx'];

const DelegationView = z.object({ id: z.number().int(), uriPrefix: z.string(), node: z.string(), by: z.string(), at: z.string() });
const DomainView = z.looseObject({
  domain: z.string(),
  /** The owner's path; null when unowned or when the caller cannot see it (`ownerHidden`). */
  owner: z.string().nullable(),
  ownerHidden: z.boolean(),
  delegations: z.array(DelegationView),
  /** Delegations to nodes the caller cannot see: counted, not named. */
  hiddenDelegations: z.number().int(),
  clusters: z.array(z.string()),
  version: z.number().int(),
  updatedAt: z.string(),
  updatedBy: z.string(),
});

/** `POST /domains/{domain}/delegations`: let the subtree of `node` attach URIs starting with `uriPrefix`. */
export const DelegationBody = z.strictObject({ uriPrefix: locationUriSchema, node: NodePath });
const DelegationParams = DomainParams.extend({ id: z.coerce.number().int().min(1) });
const OwnerField = z.union([NodePath, z.null()]);

/** Routes under /api/v1/domains. */
export function domainRoutes(s: NginxSettings, auth: AuthService): FastifyPluginAsyncZod {
  const { access } = s;

  function delegationViews(actor: Actor, list: readonly DomainDelegation[]) {
    const seen = list.flatMap((d) => {
      const node = s.nodeOf(d.nodeId);
      return node && auth.visible(actor, node) ? [{ id: d.id, uriPrefix: d.uriPrefix, node: node.path, by: d.by, at: iso(d.at) }] : [];
    });
    return { delegations: seen, hiddenDelegations: list.length - seen.length };
  }

  function domainView(actor: Actor, row: SettingsRow<string, NginxDomainSettings>) {
    const owner = access.owner(row.key);
    const ownerShown = owner !== undefined && auth.visible(actor, owner);
    return {
      ...row.settings,
      owner: ownerShown ? owner.path : null,
      ownerHidden: owner !== undefined && !ownerShown,
      ...delegationViews(actor, access.of(row.key).delegations),
      clusters: s.clustersServing(row.key).map((n) => n.path).sort(),
      version: row.version,
      updatedAt: iso(row.updatedAt),
      updatedBy: row.updatedBy,
    };
  }

  function mustDomain(domain: string): SettingsRow<string, NginxDomainSettings> {
    const row = s.domains.get(domain);
    if (!row) throw new NotFoundError('domain', domain);
    return row;
  }

  function mustAdminister(actor: Actor, domain: string, what: string): void {
    if (!access.administers(actor, domain)) throw new ForbiddenError(`${what} (nginx.write on the domain's owner, ${access.shown(actor, access.owner(domain))}, or superuser)`, domain);
  }

  function mayEditDomain(actor: Actor, domain: string): void {
    if (!s.mayEditDomain(actor, domain)) mustAdminister(actor, domain, 'changing the domain (or nginx.write on every cluster serving it)');
  }

  return async (app) => {
    app.get('/domains', { schema: { tags, response: { 200: z.object({ items: z.array(DomainView) }) } } }, async (req) => {
      const actor = actorOf(req);
      return { items: [...s.domains.all()].sort((a, b) => (a.key < b.key ? -1 : 1)).map((r) => domainView(actor, r)) };
    });

    app.get('/domains/:domain', { schema: { tags, params: DomainParams, response: { 200: DomainView } } }, async (req) =>
      domainView(actorOf(req), mustDomain(req.params.domain)),
    );

    app.put('/domains/:domain', { schema: { tags, params: DomainParams, body: AnyObject, response: { 200: DomainView, 201: DomainView } } }, async (req, reply) => {
      const actor = actorOf(req);
      const { domain } = req.params;
      const { owner: ownerField, ...body } = req.body;
      if (body['domain'] !== undefined && body['domain'] !== domain) {
        throw new ValidationError('the body names another domain than the URL', [{ path: ['body', 'domain'], message: `must be '${domain}' or absent` }]);
      }
      const settings = parseWith(nginxDomainSchema, { ...body, domain });
      const ownerPath = ownerField === undefined ? undefined : parseWith(OwnerField, ownerField, 'owner');
      const owner = ownerPath === undefined || ownerPath === null ? ownerPath : auth.nodeFor(actor, 'nginx.write', ownerPath);
      const exists = s.domains.get(domain) !== undefined;
      if (!exists && !actor.superuser && !owner) {
        throw new ValidationError('a new domain needs an owner: the node whose nginx.write lets people route from it', [{ path: ['body', 'owner'], message: 'required (a node path where you hold nginx.write)' }]);
      }
      if (exists) {
        const currentOwner = access.owner(domain);
        if (owner !== undefined && owner?.id !== currentOwner?.id) mustAdminister(actor, domain, 'moving the domain to another owner');
        mayEditDomain(actor, domain);
      }
      if (owner === null && !actor.superuser) throw new ForbiddenError('leaving a domain without owner (superuser)', domain);
      const { row, created } = await s.putDomain(actor, settings, owner === undefined ? undefined : (owner?.id ?? null));
      return reply.status(created ? 201 : 200).send(domainView(actor, row));
    });

    app.delete('/domains/:domain', { schema: { tags, params: DomainParams } }, async (req, reply) => {
      const actor = actorOf(req);
      mustDomain(req.params.domain);
      mustAdminister(actor, req.params.domain, 'deleting the domain');
      await s.deleteDomain(actor, req.params.domain);
      return reply.status(204).send();
    });

    app.get('/domains/:domain/delegations', { schema: { tags, params: DomainParams, response: { 200: z.object({ items: z.array(DelegationView), hidden: z.number().int() }) } } }, async (req) => {
      const actor = actorOf(req);
      mustDomain(req.params.domain);
      const v = delegationViews(actor, access.of(req.params.domain).delegations);
      return { items: v.delegations, hidden: v.hiddenDelegations };
    });

    app.post('/domains/:domain/delegations', { schema: { tags, params: DomainParams, body: DelegationBody, response: { 201: DelegationView } } }, async (req, reply) => {
      const actor = actorOf(req);
      const { domain } = req.params;
      mustDomain(domain);
      const to = auth.nodeFor(actor, 'tree.read', req.body.node);
      mustAdminister(actor, domain, 'delegating a URI prefix');
      const d = await s.delegate(actor, domain, req.body.uriPrefix, to);
      return reply.status(201).send({ id: d.id, uriPrefix: d.uriPrefix, node: to.path, by: d.by, at: iso(d.at) });
    });

    app.delete('/domains/:domain/delegations/:id', { schema: { tags, params: DelegationParams } }, async (req, reply) => {
      const actor = actorOf(req);
      mustDomain(req.params.domain);
      mustAdminister(actor, req.params.domain, 'removing a delegation');
      await s.undelegate(actor, req.params.domain, req.params.id);
      return reply.status(204).send();
    });
  };
}
