/**
 * What nginx keeps on tree nodes, as reasons a node delete must refuse: a deleted service node
 * would leave its routes pointing at an empty upstream (502), a deleted cluster node its
 * published config without an owner. Registered with the tree by `createNginxService`.
 */
import type { DeleteGuard } from '../tree/index.ts';
import type { NginxSettings } from './settings-service.ts';

/** The tree delete guard over `settings`: one reason per node holding nginx settings or a cluster. */
export function nginxDeleteGuard(settings: Pick<NginxSettings, 'services' | 'clusters'>): DeleteGuard {
  return (nodes) =>
    nodes.flatMap((n) => {
      const reasons: string[] = [];
      const routes = settings.services.get(n.id)?.settings.domainUris.map((du) => `${du.domain}${du.uri}`);
      if (routes) reasons.push(`nginx routes ${routes.join(', ')} to '${n.path}'; delete its nginx settings first (DELETE /api/v1/nodes/${n.path}/nginx)`);
      const cluster = settings.clusters.get(n.id);
      if (cluster) reasons.push(`'${n.path}' is an nginx cluster serving ${cluster.settings.domains.join(', ') || 'no domain'}; its published config still belongs to it`);
      return reasons;
    });
}
