/**
 * The nginx capability's domain: settings, and each cluster's published config with its versions.
 * Backend changes reach the publisher through `BackendSource`; no HTTP here.
 */
import type { ChangeFeed, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import type { TreeService } from '../tree/index.ts';
import type { BackendSource } from './backends.ts';
import type { ProxyAcl } from './domain-access.ts';
import { createNginxRenderer } from './cluster-render.ts';
import { checkNginxConfig, type ConfigCheck } from './nginx-binary.ts';
import type { RenderedFile } from './model.ts';
import { createPublisher } from './publisher.ts';
import { createNginxSettings } from './settings-service.ts';
import { nginxDeleteGuard } from './delete-guard.ts';

export interface NginxServiceDeps {
  writer: Writer;
  feed: ChangeFeed;
  db: Queryable;
  tree: TreeService;
  backends: BackendSource;
  /** Who may do what where (the auth service): domain ownership and rollback restores ask it. */
  acl: ProxyAcl;
  /** The real-program check; `nginx -t` in an isolated prefix by default. */
  check?: (files: readonly RenderedFile[]) => Promise<ConfigCheck>;
  /** Quiet time collecting backend changes before re-publishing; default 200 ms. */
  debounceMs?: number;
  /** Recent versions per cluster that keep their content (CANOPY_CONFIG_KEEP_VERSIONS); default 100. */
  keepVersions?: number;
  onError?: (err: unknown) => void;
}

export type NginxService = ReturnType<typeof createNginxService>;

/** Build the nginx capability and subscribe it to the change feed and the backends. */
export function createNginxService(deps: NginxServiceDeps) {
  const settings = createNginxSettings(deps);
  deps.tree.addDeleteGuard(nginxDeleteGuard(settings));
  deps.tree.addDeleteGuard((nodes) => settings.access.deleteReasons(nodes));
  const publisher = createPublisher({
    kind: 'nginx',
    writer: deps.writer,
    feed: deps.feed,
    db: deps.db,
    renderer: createNginxRenderer(deps.backends, deps.check ?? checkNginxConfig),
    backends: deps.backends,
    pathOf: (id) => deps.tree.model.get(id)?.path ?? `#${id}`,
    ...(deps.debounceMs !== undefined ? { debounceMs: deps.debounceMs } : {}),
    ...(deps.keepVersions !== undefined ? { keepVersions: deps.keepVersions } : {}),
    ...(deps.onError ? { onError: deps.onError } : {}),
  });

  return {
    settings,
    publisher,
    async load(q: Queryable): Promise<void> {
      await settings.model.load(q);
      await publisher.load(q);
    },
    stop: () => publisher.stop(),
  };
}
