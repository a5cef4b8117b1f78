/**
 * A rollback sets the nginx settings back to the version's snapshot, in the rollback's own
 * transaction: the cluster row, the domains it served, and every service routed from those
 * domains. Otherwise the settings keep the change the rollback undid and the next apply by anyone
 * publishes it again. Rows the actor may not write (another team's service, a domain owned
 * elsewhere) or that cannot come back (a deleted node, a taken upstream name) stay as they are and
 * are reported: they are where the settings now diverge from the published version.
 */
import { defaultUpstreamName, type NginxDomainSettings, type NginxServiceSettings } from '@canopy/core';
import type { Actor, WriteContext } from '../changes/index.ts';
import type { TreeNode } from '../tree/index.ts';
import type { NginxInput, NginxInputService } from './cluster-render.ts';
import { canonicalJson } from './diff.ts';
import type { ProxyAcl } from './domain-access.ts';
import type { RestoreReport } from './publisher.ts';
import type { NginxClusterSettings } from './schema.ts';
import type { NginxSettings } from './settings-service.ts';

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

/** The service row that routes `then` on the snapshot's domains and keeps its URIs elsewhere. */
function serviceRowOf(node: TreeNode, current: NginxServiceSettings | undefined, then: NginxInputService | undefined, served: ReadonlySet<string>): NginxServiceSettings | null {
  const elsewhere = (current?.domainUris ?? []).filter((du) => !served.has(du.domain));
  if (!then) return current && elsewhere.length > 0 ? { ...current, domainUris: elsewhere } : null;
  // A default upstream name follows renames: keep it implicit when it was the default then.
  const implicit = current ? current.upstream === undefined : true;
  const upstream = implicit && (then.upstream === defaultUpstreamName(then.path) || then.upstream === defaultUpstreamName(node.path)) ? {} : { upstream: then.upstream };
  const attributes = then.attributes as NginxServiceSettings['attributes'];
  return { domainUris: [...elsewhere, ...then.domainUris], port: then.port, balance: then.balance, attributes, ...upstream };
}

/** Set the settings of `cluster` and what it routes back to `input`, as far as `actor` may. */
export async function restoreNginxSettings(s: NginxSettings, acl: ProxyAcl, actor: Actor, cluster: TreeNode, w: WriteContext, input: NginxInput): Promise<RestoreReport> {
  const report: RestoreReport = { restored: [], notRestored: [] };
  const note = { rollbackOf: cluster.path };
  const served = new Set(input.domains.map((d) => d.domain));

  for (const d of input.domains) {
    const cur = s.domains.get(d.domain);
    if (cur && same(cur.settings, d)) continue;
    if (cur && !s.mayEditDomain(actor, d.domain)) {
      report.notRestored.push({ target: `domain ${d.domain}`, reason: "needs nginx.write on the domain's owner or on every cluster serving it" });
      continue;
    }
    await s.domains.put(w, d.domain, d as NginxDomainSettings);
    if (!cur) await s.access.setOwner(w, d.domain, null);
    w.audit({ operation: 'nginx.domain.restore', targetKind: 'domain', target: d.domain, before: cur?.settings, after: { ...d, ...note } });
    report.restored.push(`domain ${d.domain}`);
  }

  const { listenAddress, logDir, defaultServers } = input.options;
  const clusterRow: NginxClusterSettings = { domains: [...served].sort(), defaultServers, ...(listenAddress ? { listenAddress } : {}), ...(logDir ? { logDir } : {}) };
  const curCluster = s.clusters.get(cluster.id)?.settings;
  const sortedNow = curCluster && { ...curCluster, domains: [...curCluster.domains].sort() };
  if (!same(sortedNow, clusterRow)) {
    await s.clusters.put(w, cluster.id, clusterRow);
    w.audit({ operation: 'nginx.cluster.restore', targetKind: 'node', target: cluster.path, nodeId: cluster.id, nodePath: cluster.path, before: curCluster, after: { ...clusterRow, ...note } });
    report.restored.push(`cluster ${cluster.path}`);
  }

  const then = new Map(input.services.map((x) => [x.nodeId, x]));
  const routedNow = [...s.services.all()].filter((r) => r.settings.domainUris.some((du) => served.has(du.domain))).map((r) => r.key);
  const ids = [...new Set([...then.keys(), ...routedNow])].sort((a, b) => a - b);
  const upstreamsOutside = new Map<string, string>();
  for (const r of s.services.all()) {
    const node = s.nodeOf(r.key);
    if (node && !ids.includes(r.key)) upstreamsOutside.set(s.upstreamOf(r.key, r.settings) ?? '', node.path);
  }
  for (const id of ids) {
    const node = s.nodeOf(id);
    const label = `service ${node?.path ?? then.get(id)?.path ?? `#${id}`}`;
    if (!node) {
      report.notRestored.push({ target: label, reason: 'the node was deleted' });
      continue;
    }
    const cur = s.services.get(id)?.settings;
    const next = serviceRowOf(node, cur, then.get(id), served);
    if (same(cur ?? null, next)) continue;
    if (!acl.can(actor, 'nginx.write', id)) {
      report.notRestored.push({ target: label, reason: `needs nginx.write on ${node.path}` });
      continue;
    }
    const taken = next && upstreamsOutside.get(next.upstream ?? defaultUpstreamName(node.path));
    if (taken) {
      report.notRestored.push({ target: label, reason: `its upstream name is now used by ${taken}` });
      continue;
    }
    if (next) await s.services.put(w, id, next);
    else await s.services.remove(w, id);
    w.audit({ operation: 'nginx.service.restore', targetKind: 'node', target: node.path, nodeId: id, nodePath: node.path, before: cur, after: next ? { ...next, ...note } : note });
    report.restored.push(label);
  }
  return report;
}
