/**
 * Who may route traffic from a domain. A domain has an owner node; attaching a URI of the domain
 * to a service needs `nginx.write` on the owner, or a delegation: the owner lets the nodes under
 * one node attach URIs that start with a prefix (`/api/v2/` to `corp.find`). Without this any
 * team could take over part of another team's domain, with that domain's certificate.
 *
 * The rows live in `nginx_domain_access` (migrations/0500), read through the settings model.
 */
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, type NginxServiceSettings, type Operation } from '@canopy/core';
import type { Actor, WriteContext } from '../changes/index.ts';
import type { TreeNode } from '../tree/index.ts';
import type { SettingsModel } from './settings-model.ts';

/** One URI prefix the owner lets the subtree of `nodeId` attach. */
export interface DomainDelegation {
  id: number;
  uriPrefix: string;
  nodeId: number;
  /** Who created it, and when (ISO 8601). */
  by: string;
  at: string;
}

/** A domain's owner (null: superusers only) and its delegations. */
export interface DomainAccess {
  ownerId: number | null;
  delegations: DomainDelegation[];
}

/** What the proxy capabilities ask of the ACL (the auth service answers it). */
export interface ProxyAcl {
  can(actor: Actor, op: Operation, nodeId: number): boolean;
  /** Whether the actor may see (and so learn the path of) the node. */
  visible(actor: Actor, node: TreeNode): boolean;
}

/** What the access rules need of the tree and the ACL. */
export interface DomainAccessDeps {
  model: SettingsModel;
  node(id: number): TreeNode | undefined;
  acl: ProxyAcl;
}

export type DomainAccessRules = ReturnType<typeof createDomainAccess>;

const UNOWNED: DomainAccess = Object.freeze({ ownerId: null, delegations: [] }) as DomainAccess;

/** The owner and delegation rules over the `nginx_domain_access` rows. */
export function createDomainAccess(deps: DomainAccessDeps) {
  const rows = deps.model.table<string, DomainAccess>('nginx_domain_access');

  const of = (domain: string): DomainAccess => rows.get(domain)?.settings ?? UNOWNED;
  const liveOwner = (a: DomainAccess) => (a.ownerId === null ? undefined : deps.node(a.ownerId));

  /** Superuser, or `nginx.write` on the domain's (live) owner. */
  function administers(actor: Actor, domain: string): boolean {
    if (actor.superuser) return true;
    const owner = liveOwner(of(domain));
    return owner !== undefined && deps.acl.can(actor, 'nginx.write', owner.id);
  }

  /** A node's path as `actor` may learn it: hidden nodes are never named. */
  function shown(actor: Actor, node: TreeNode | undefined): string {
    if (!node) return 'no owner (a superuser must set one)';
    return deps.acl.visible(actor, node) ? node.path : 'a node you cannot see';
  }

  /** The delegation that lets `node` attach `uri`, if any. */
  function delegationFor(a: DomainAccess, node: TreeNode, uri: string): DomainDelegation | undefined {
    return a.delegations.find((d) => {
      const to = deps.node(d.nodeId);
      return to !== undefined && (node.path === to.path || node.path.startsWith(`${to.path}.`)) && uri.startsWith(d.uriPrefix);
    });
  }

  return {
    rows,
    of,
    administers,
    owner: (domain: string) => liveOwner(of(domain)),
    shown,

    /**
     * Refuse (403) the domain URIs `next` adds to `node` beyond what it has (`current`) that the
     * actor may not attach. URIs the service already holds stay allowed, so a port change works.
     */
    checkAttach(actor: Actor, node: TreeNode, current: NginxServiceSettings | undefined, next: NginxServiceSettings): void {
      if (actor.superuser) return;
      const had = new Set((current?.domainUris ?? []).map((du) => `${du.domain} ${du.uri}`));
      for (const du of next.domainUris) {
        if (had.has(`${du.domain} ${du.uri}`) || administers(actor, du.domain)) continue;
        if (delegationFor(of(du.domain), node, du.uri)) continue;
        const owner = shown(actor, liveOwner(of(du.domain)));
        throw new ForbiddenError(`attaching a URI (nginx.write on the domain's owner, ${owner}, or a delegation of a prefix of '${du.uri}' to ${node.path} or an ancestor)`, `${du.domain}${du.uri}`);
      }
    },

    /** Set the owner, keeping the delegations. */
    async setOwner(w: WriteContext, domain: string, ownerId: number | null): Promise<void> {
      const before = rows.get(domain)?.settings;
      if (before && before.ownerId === ownerId) return;
      await rows.put(w, domain, { ownerId, delegations: before?.delegations ?? [] });
      const path = ownerId === null ? null : (deps.node(ownerId)?.path ?? null);
      w.audit({ operation: 'nginx.domain.owner', targetKind: 'domain', target: domain, nodeId: ownerId, nodePath: path, before: before ? { ownerId: before.ownerId } : undefined, after: { ownerId, owner: path } });
    },

    /** Add a delegation of `uriPrefix` to `to`; 409 when it exists. */
    async delegate(w: WriteContext, domain: string, uriPrefix: string, to: TreeNode): Promise<DomainDelegation> {
      const a = of(domain);
      if (a.ownerId === to.id) throw new ValidationError(`${to.path} owns ${domain}: it needs no delegation`, [{ path: ['body', 'node'], message: 'is the owner' }]);
      if (a.delegations.some((d) => d.nodeId === to.id && d.uriPrefix === uriPrefix)) {
        throw new ConflictError(`${domain}${uriPrefix} is already delegated to ${to.path}`, { domain, uriPrefix, node: to.path });
      }
      const d: DomainDelegation = { id: Math.max(0, ...a.delegations.map((x) => x.id)) + 1, uriPrefix, nodeId: to.id, by: w.actor.name, at: new Date().toISOString() };
      await rows.put(w, domain, { ownerId: a.ownerId, delegations: [...a.delegations, d] });
      w.audit({ operation: 'nginx.domain.delegate', targetKind: 'domain', target: domain, nodeId: to.id, nodePath: to.path, after: { id: d.id, uriPrefix, node: to.path } });
      return d;
    },

    /** Remove delegation `id`. URIs already attached under it stay: it governs new attachments. */
    async undelegate(w: WriteContext, domain: string, id: number): Promise<void> {
      const a = of(domain);
      const d = a.delegations.find((x) => x.id === id);
      if (!d) throw new NotFoundError('delegation', `${domain} #${id}`);
      await rows.put(w, domain, { ownerId: a.ownerId, delegations: a.delegations.filter((x) => x.id !== id) });
      const path = deps.node(d.nodeId)?.path ?? null;
      w.audit({ operation: 'nginx.domain.undelegate', targetKind: 'domain', target: domain, nodeId: d.nodeId, nodePath: path, before: { id, uriPrefix: d.uriPrefix, node: path } });
    },

    /** Drop the row with the domain. */
    remove: (w: WriteContext, domain: string) => rows.remove(w, domain),

    /** Why deleting these nodes must wait: a domain without its owner would be left to superusers. */
    deleteReasons(nodes: readonly TreeNode[]): string[] {
      const ids = new Set(nodes.map((n) => n.id));
      return [...rows.all()].flatMap((r) => {
        const owner = r.settings.ownerId === null || !ids.has(r.settings.ownerId) ? undefined : deps.node(r.settings.ownerId);
        return owner ? [`'${owner.path}' owns the nginx domain ${r.key}; give it another owner first (canopy nginx domain set ${r.key} --owner PATH)`] : [];
      });
    },
  };
}
