/**
 * The discovery registry as a BackendSource: a service node's instances are discovery's full
 * answer for the node's path (every instance, whatever its status, with `bound`), and a change
 * event names the paths whose answer changed.
 */
import type { DiscoveryService } from '../discovery/index.ts';
import type { TreeModel } from '../tree/index.ts';
import type { BackendInstance, BackendSource } from './backends.ts';

/** Instances of service nodes from `discovery`; node ids and paths through `tree`. */
export function discoveryBackends(discovery: Pick<DiscoveryService, 'resolve' | 'subscribe'>, tree: TreeModel): BackendSource {
  return {
    instancesOf(nodeId: number): readonly BackendInstance[] {
      const node = tree.get(nodeId);
      if (!node) return [];
      const answer = discovery.resolve(node.path, { healthyOnly: false });
      // An old path of a renamed service resolves too; only the node's own service counts.
      if (!answer || answer.service !== node.path) return [];
      return answer.instances;
    },
    onChange(listener) {
      discovery.subscribe((c) => {
        const ids = c.services.flatMap((p) => tree.byPath(p)?.id ?? []);
        if (ids.length > 0) listener(ids);
      });
    },
  };
}
