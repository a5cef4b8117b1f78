/**
 * The LVS settings people edit: each service node's virtual services, and each director cluster's
 * list of service nodes (by id, so renames keep working), keepalived flavor and FULLNAT local
 * address groups. The draft of a cluster is what `plan` and `apply` render.
 */
import { ConflictError, NotFoundError, ValidationError, type LvsLocalAddressGroupSettings, type LvsServiceSettings } from '@canopy/core';
import type { Actor, ChangeFeed, WriteContext, Writer } from '../changes/index.ts';
import { canonicalJson, createSettingsModel, type ProxyAcl, type RestoreReport } from '../nginx/index.ts';
import type { TreeNode, TreeService } from '../tree/index.ts';
import type { LvsInput } from './cluster-render.ts';
import type { KeepalivedFlavor } from './model.ts';

export const LVS_TOPIC = 'lvs';

/** What an LVS cluster row holds. */
export interface LvsClusterSettings {
  serviceIds: number[];
  flavor: KeepalivedFlavor;
  localAddressGroups: LvsLocalAddressGroupSettings[];
}

export type LvsSettings = ReturnType<typeof createLvsSettings>;

/** The LVS settings model and its writes. */
export function createLvsSettings(deps: { writer: Writer; feed: ChangeFeed; tree: TreeService }) {
  const { writer, tree } = deps;
  const model = createSettingsModel(deps.feed, LVS_TOPIC, ['lvs_services', 'lvs_clusters']);
  const services = model.table<number, LvsServiceSettings>('lvs_services');
  const clusters = model.table<number, LvsClusterSettings>('lvs_clusters');
  const live = (id: number) => tree.model.get(id);

  function draftOf(settings: LvsClusterSettings): LvsInput {
    const list = settings.serviceIds.flatMap((id) => {
      const node = live(id);
      const row = services.get(id);
      return node && row ? [{ nodeId: id, path: node.path, virtualServices: row.settings.virtualServices }] : [];
    });
    list.sort((a, b) => a.nodeId - b.nodeId);
    const groups = [...settings.localAddressGroups].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { flavor: settings.flavor, localAddressGroups: groups, services: list };
  }

  return {
    model,
    services,
    clusters,
    draftOf,

    /** Cluster nodes that list the service node. */
    clustersOf: (nodeId: number): TreeNode[] => [...clusters.all()].filter((c) => c.settings.serviceIds.includes(nodeId)).flatMap((c) => live(c.key) ?? []),

    async putService(actor: Actor, node: TreeNode, settings: LvsServiceSettings) {
      return writer.run(actor, async (w) => {
        const mine = new Set(settings.virtualServices.map((vs) => `${vs.protocol} ${vs.vip}:${vs.port}`));
        for (const other of services.all()) {
          const path = live(other.key)?.path;
          if (other.key === node.id || path === undefined) continue;
          const taken = other.settings.virtualServices.find((vs) => mine.has(`${vs.protocol} ${vs.vip}:${vs.port}`));
          if (taken) throw new ConflictError(`${taken.protocol} ${taken.vip}:${taken.port} is already a virtual service of ${path}`, { service: path });
        }
        const before = services.get(node.id);
        const row = await services.put(w, node.id, settings);
        w.audit({ operation: 'lvs.service.update', targetKind: 'node', target: node.path, nodeId: node.id, nodePath: node.path, before: before?.settings, after: settings });
        return { row, created: !before };
      });
    },

    async deleteService(actor: Actor, node: TreeNode): Promise<void> {
      await writer.run(actor, async (w) => {
        const before = services.get(node.id);
        if (!before) throw new NotFoundError('LVS settings of', node.path);
        const users = [...clusters.all()].filter((c) => c.settings.serviceIds.includes(node.id)).flatMap((c) => live(c.key)?.path ?? []);
        if (users.length > 0) throw new ConflictError(`LVS cluster(s) ${users.join(', ')} still balance '${node.path}'; remove it from them first`, { clusters: users });
        await services.remove(w, node.id);
        w.audit({ operation: 'lvs.service.delete', targetKind: 'node', target: node.path, nodeId: node.id, nodePath: node.path, before: before.settings });
      });
    },

    /** Replace a cluster's settings; `validate` renders the resulting draft to refuse what could never apply. */
    async putCluster(actor: Actor, node: TreeNode, settings: LvsClusterSettings, validate: (draft: LvsInput) => void) {
      return writer.run(actor, async (w) => {
        const missing = settings.serviceIds.flatMap((id, i) => (services.get(id) ? [] : [{ path: ['services', i], message: `${live(id)?.path ?? id} has no LVS settings; PUT /api/v1/nodes/{path}/lvs first` }]));
        if (missing.length > 0) throw new ValidationError(missing.map((m) => m.message).join('; '), missing);
        validate(draftOf(settings));
        const before = clusters.get(node.id);
        const row = await clusters.put(w, node.id, settings);
        w.audit({ operation: 'lvs.cluster.update', targetKind: 'node', target: node.path, nodeId: node.id, nodePath: node.path, before: before?.settings, after: settings });
        return { row, created: !before };
      });
    },

    /**
     * A rollback's restore: the cluster row and the listed services' virtual services set back to
     * the snapshot's, so the next apply does not publish what the rollback undid. Services the
     * actor may not write, or whose addresses another service took since, are reported instead.
     */
    async restore(actor: Actor, acl: ProxyAcl, cluster: TreeNode, w: WriteContext, input: LvsInput): Promise<RestoreReport> {
      const report: RestoreReport = { restored: [], notRestored: [] };
      const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
      const note = { rollbackOf: cluster.path };
      for (const then of input.services) {
        const node = live(then.nodeId);
        const label = `service ${node?.path ?? then.path}`;
        const cur = services.get(then.nodeId)?.settings;
        if (cur && same(cur.virtualServices, then.virtualServices)) continue;
        if (!node) {
          report.notRestored.push({ target: label, reason: 'the node was deleted' });
          continue;
        }
        if (!acl.can(actor, 'lvs.write', node.id)) {
          report.notRestored.push({ target: label, reason: `needs lvs.write on ${node.path}` });
          continue;
        }
        const mine = new Set(then.virtualServices.map((vs) => `${vs.protocol} ${vs.vip}:${vs.port}`));
        const taker = [...services.all()].find((o) => o.key !== node.id && live(o.key) && o.settings.virtualServices.some((vs) => mine.has(`${vs.protocol} ${vs.vip}:${vs.port}`)));
        if (taker) {
          report.notRestored.push({ target: label, reason: `its virtual service address is now used by ${live(taker.key)?.path}` });
          continue;
        }
        const next = { ...(cur ?? {}), virtualServices: then.virtualServices } as LvsServiceSettings;
        await services.put(w, node.id, next);
        w.audit({ operation: 'lvs.service.restore', targetKind: 'node', target: node.path, nodeId: node.id, nodePath: node.path, before: cur, after: { ...next, ...note } });
        report.restored.push(label);
      }
      const ids = input.services.filter((x) => services.get(x.nodeId) || report.restored.includes(`service ${live(x.nodeId)?.path}`)).map((x) => x.nodeId);
      const row: LvsClusterSettings = { serviceIds: ids, flavor: input.flavor, localAddressGroups: input.localAddressGroups };
      const before = clusters.get(cluster.id)?.settings;
      const sorted = (c: LvsClusterSettings | undefined) => c && { ...c, serviceIds: [...c.serviceIds].sort((a, b) => a - b), localAddressGroups: [...c.localAddressGroups].sort((a, b) => (a.name < b.name ? -1 : 1)) };
      if (!same(sorted(before), sorted(row))) {
        await clusters.put(w, cluster.id, row);
        w.audit({ operation: 'lvs.cluster.restore', targetKind: 'node', target: cluster.path, nodeId: cluster.id, nodePath: cluster.path, before, after: { ...row, ...note } });
        report.restored.push(`cluster ${cluster.path}`);
      }
      return report;
    },

    /** The snapshot `apply` would publish. */
    draft(cluster: TreeNode): LvsInput {
      const c = clusters.get(cluster.id);
      if (!c) throw new NotFoundError('LVS cluster', cluster.path);
      return draftOf(c.settings);
    },
  };
}
