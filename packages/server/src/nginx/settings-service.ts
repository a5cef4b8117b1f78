/**
 * The nginx settings people edit: domains (global, by name), per-service settings and clusters
 * (by node id, so renames keep working). Cross-object rules are checked when a write would break
 * them; the draft of a cluster is what `plan` and `apply` render.
 */
import {
  ConflictError,
  NotFoundError,
  ValidationError,
  defaultUpstreamName,
  type FieldIssue,
  type NginxDomainSettings,
  type NginxServiceSettings,
} from '@canopy/core';
import type { Actor, ChangeFeed, Writer } from '../changes/index.ts';
import type { TreeNode, TreeService } from '../tree/index.ts';
import type { NginxInput } from './cluster-render.ts';
import { validateCluster } from './compose.ts';
import { createDomainAccess, type ProxyAcl } from './domain-access.ts';
import type { NginxClusterSettings } from './schema.ts';
import { createSettingsModel } from './settings-model.ts';

export const NGINX_TOPIC = 'nginx';

export type NginxSettings = ReturnType<typeof createNginxSettings>;

/** The nginx settings model and its writes. */
export function createNginxSettings(deps: { writer: Writer; feed: ChangeFeed; tree: TreeService; acl: ProxyAcl }) {
  const { writer, tree } = deps;
  const model = createSettingsModel(deps.feed, NGINX_TOPIC, ['nginx_domains', 'nginx_domain_access', 'nginx_services', 'nginx_clusters']);
  const domains = model.table<string, NginxDomainSettings>('nginx_domains');
  const services = model.table<number, NginxServiceSettings>('nginx_services');
  const clusters = model.table<number, NginxClusterSettings>('nginx_clusters');

  const live = (id: number) => tree.model.get(id);
  const access = createDomainAccess({ model, node: live, acl: deps.acl });

  /** Cluster nodes that serve `domain`. */
  function clustersServing(domain: string): TreeNode[] {
    return [...clusters.all()].filter((c) => c.settings.domains.includes(domain)).flatMap((c) => live(c.key) ?? []);
  }

  function mustDomains(names: readonly string[], field: (i: number) => (string | number)[]): NginxDomainSettings[] {
    const issues: FieldIssue[] = [];
    const out: NginxDomainSettings[] = [];
    names.forEach((d, i) => {
      const row = domains.get(d);
      if (row) out.push(row.settings);
      else issues.push({ path: field(i), message: `domain '${d}' is not defined; PUT /api/v1/domains/${d} first` });
    });
    if (issues.length > 0) throw new ValidationError(issues.map((i) => i.message).join('; '), issues);
    return out;
  }

  /** Ports one cluster serves must agree on ssl; a single domain's schema cannot see that. */
  function checkDomainsTogether(list: NginxDomainSettings[], where: string): void {
    try {
      validateCluster({ domains: list, services: [] });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      throw new ValidationError(`${where}: ${err.issues.map((i) => i.message).join('; ')}`, err.issues);
    }
  }

  function upstreamOf(nodeId: number, s: NginxServiceSettings): string | undefined {
    const node = live(nodeId);
    return node ? (s.upstream ?? defaultUpstreamName(node.path)) : undefined;
  }

  return {
    model,
    domains,
    services,
    clusters,
    clustersServing,
    upstreamOf,
    access,
    /** The live node with this id. */
    nodeOf: live,

    /** Changing a domain's ports or certificate: its owner, or `nginx.write` on every cluster serving it. */
    mayEditDomain(actor: Actor, domain: string): boolean {
      if (access.administers(actor, domain)) return true;
      const serving = clustersServing(domain);
      return serving.length > 0 && serving.every((n) => deps.acl.can(actor, 'nginx.write', n.id));
    },

    /** Let the subtree of `to` attach URIs of `domain` under `uriPrefix` (audited). */
    delegate: (actor: Actor, domain: string, uriPrefix: string, to: TreeNode) => writer.run(actor, (w) => access.delegate(w, domain, uriPrefix, to)),
    /** Remove a delegation (audited); attached URIs stay. */
    undelegate: (actor: Actor, domain: string, id: number) => writer.run(actor, (w) => access.undelegate(w, domain, id)),

    /** Create or change a domain; `ownerId` sets its owner (undefined: keep it; a new domain without one is unowned). */
    async putDomain(actor: Actor, settings: NginxDomainSettings, ownerId?: number | null) {
      return writer.run(actor, async (w) => {
        for (const c of clustersServing(settings.domain)) {
          const row = clusters.get(c.id);
          const others = (row?.settings.domains ?? []).filter((d) => d !== settings.domain).flatMap((d) => domains.get(d)?.settings ?? []);
          checkDomainsTogether([...others, settings], `cluster ${c.path}`);
        }
        const before = domains.get(settings.domain);
        const row = await domains.put(w, settings.domain, settings);
        w.audit({ operation: before ? 'nginx.domain.update' : 'nginx.domain.create', targetKind: 'domain', target: settings.domain, before: before?.settings, after: settings });
        if (ownerId !== undefined || !before) await access.setOwner(w, settings.domain, ownerId ?? null);
        return { row, created: !before };
      });
    },

    async deleteDomain(actor: Actor, domain: string): Promise<void> {
      await writer.run(actor, async (w) => {
        const before = domains.get(domain);
        if (!before) throw new NotFoundError('domain', domain);
        const users = [
          ...clustersServing(domain).map((n) => `cluster ${n.path}`),
          ...[...services.all()].filter((s) => s.settings.domainUris.some((du) => du.domain === domain)).flatMap((s) => live(s.key)?.path ?? []).map((p) => `service ${p}`),
        ];
        if (users.length > 0) throw new ConflictError(`domain '${domain}' is still used by ${users.join(', ')}`, { usedBy: users });
        await access.remove(w, domain);
        await domains.remove(w, domain);
        w.audit({ operation: 'nginx.domain.delete', targetKind: 'domain', target: domain, before: before.settings });
      });
    },

    async putService(actor: Actor, node: TreeNode, settings: NginxServiceSettings) {
      return writer.run(actor, async (w) => {
        mustDomains(settings.domainUris.map((du) => du.domain), (i) => ['domainUris', i, 'domain']);
        access.checkAttach(actor, node, services.get(node.id)?.settings, settings);
        const mine = settings.upstream ?? defaultUpstreamName(node.path);
        const claims = new Set(settings.domainUris.map((du) => `${du.domain}${du.uri}`));
        for (const other of services.all()) {
          if (other.key === node.id || !live(other.key)) continue;
          const taken = other.settings.domainUris.find((du) => claims.has(`${du.domain}${du.uri}`));
          const path = live(other.key)?.path;
          if (taken) throw new ConflictError(`${taken.domain}${taken.uri} is already served by ${path}`, { domain: taken.domain, uri: taken.uri, service: path });
          if (upstreamOf(other.key, other.settings) === mine) throw new ConflictError(`upstream name '${mine}' is already used by ${path}`, { upstream: mine, service: path });
        }
        const before = services.get(node.id);
        const row = await services.put(w, node.id, settings);
        w.audit({ operation: 'nginx.service.update', targetKind: 'node', target: node.path, nodeId: node.id, nodePath: node.path, before: before?.settings, after: settings });
        return { row, created: !before };
      });
    },

    async deleteService(actor: Actor, node: TreeNode): Promise<void> {
      await writer.run(actor, async (w) => {
        const before = services.get(node.id);
        if (!before) throw new NotFoundError('nginx settings of', node.path);
        await services.remove(w, node.id);
        w.audit({ operation: 'nginx.service.delete', targetKind: 'node', target: node.path, nodeId: node.id, nodePath: node.path, before: before.settings });
      });
    },

    async putCluster(actor: Actor, node: TreeNode, settings: NginxClusterSettings) {
      return writer.run(actor, async (w) => {
        checkDomainsTogether(mustDomains(settings.domains, (i) => ['domains', i]), `cluster ${node.path}`);
        const before = clusters.get(node.id);
        const row = await clusters.put(w, node.id, settings);
        w.audit({ operation: 'nginx.cluster.update', targetKind: 'node', target: node.path, nodeId: node.id, nodePath: node.path, before: before?.settings, after: settings });
        return { row, created: !before };
      });
    },

    /** The snapshot `apply` would publish: the cluster's domains and every live service routed from them. */
    draft(cluster: TreeNode): NginxInput {
      const c = clusters.get(cluster.id);
      if (!c) throw new NotFoundError('nginx cluster', cluster.path);
      const served = new Set(c.settings.domains);
      const list = [...c.settings.domains].sort().flatMap((d) => domains.get(d)?.settings ?? []);
      const routed = [];
      for (const row of services.all()) {
        const node = live(row.key);
        const uris = row.settings.domainUris.filter((du) => served.has(du.domain));
        if (!node || uris.length === 0) continue;
        const s = row.settings;
        routed.push({ nodeId: node.id, path: node.path, upstream: s.upstream ?? defaultUpstreamName(node.path), port: s.port, domainUris: uris, balance: s.balance, attributes: s.attributes });
      }
      routed.sort((a, b) => a.nodeId - b.nodeId);
      const { listenAddress, logDir, defaultServers } = c.settings;
      return { options: { ...(listenAddress ? { listenAddress } : {}), ...(logDir ? { logDir } : {}), defaultServers }, domains: list, services: routed };
    },
  };
}
