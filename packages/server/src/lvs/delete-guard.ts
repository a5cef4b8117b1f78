/**
 * What LVS keeps on tree nodes, as reasons a node delete must refuse: a deleted service node would
 * leave its virtual services without real servers, a deleted director cluster its published
 * keepalived config without an owner. Registered with the tree by `createLvsService`.
 */
import type { DeleteGuard } from '../tree/index.ts';
import type { LvsSettings } from './settings-service.ts';

/** The tree delete guard over `settings`: one reason per node holding LVS settings, per cluster listing it, per director cluster. */
export function lvsDeleteGuard(settings: Pick<LvsSettings, 'services' | 'clusters' | 'clustersOf'>): DeleteGuard {
  return (nodes) => {
    const going = new Set(nodes.map((n) => n.id));
    return nodes.flatMap((n) => {
      const reasons: string[] = [];
      const vss = settings.services.get(n.id)?.settings.virtualServices.map((vs) => `${vs.protocol} ${vs.vip}:${vs.port}`);
      if (vss) {
        reasons.push(`'${n.path}' has LVS virtual services ${vss.join(', ')}; delete its LVS settings first (DELETE /api/v1/nodes/${n.path}/lvs)`);
        // The same check the LVS settings delete makes: clusters outside the deleted subtree that still balance it.
        const users = settings.clustersOf(n.id).filter((c) => !going.has(c.id)).map((c) => c.path);
        if (users.length > 0) reasons.push(`LVS cluster(s) ${users.join(', ')} still balance '${n.path}'; remove it from them first`);
      }
      const cluster = settings.clusters.get(n.id);
      if (cluster) reasons.push(`'${n.path}' is an LVS director cluster balancing ${cluster.settings.serviceIds.length} service(s); its published config still belongs to it`);
      return reasons;
    });
  };
}
