/**
 * The LVS capability's domain: settings, and each director cluster's published keepalived config
 * with its versions. Real servers come from discovery through `BackendSource`; no HTTP here.
 */
import type { ChangeFeed, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import { createPublisher, type BackendSource } from '../nginx/index.ts';
import type { TreeService } from '../tree/index.ts';
import { createLvsRenderer, type KeepalivedChecker } from './cluster-render.ts';
import { checkKeepalivedConfig } from './keepalived-binary.ts';
import { createLvsSettings } from './settings-service.ts';
import { lvsDeleteGuard } from './delete-guard.ts';

export interface LvsServiceDeps {
  writer: Writer;
  feed: ChangeFeed;
  db: Queryable;
  tree: TreeService;
  backends: BackendSource;
  /** The real-program check; `keepalived -t` (FULLNAT keywords structurally) by default. */
  check?: KeepalivedChecker;
  /** Quiet time collecting backend changes before re-publishing; default 200 ms. */
  debounceMs?: number;
  /** Recent versions per cluster that keep their content (CANOPY_CONFIG_KEEP_VERSIONS); default 100. */
  keepVersions?: number;
  onError?: (err: unknown) => void;
}

export type LvsService = ReturnType<typeof createLvsService>;

/** Build the LVS capability and subscribe it to the change feed and the backends. */
export function createLvsService(deps: LvsServiceDeps) {
  const settings = createLvsSettings(deps);
  deps.tree.addDeleteGuard(lvsDeleteGuard(settings));
  const renderer = createLvsRenderer(deps.backends, deps.check ?? checkKeepalivedConfig);
  const publisher = createPublisher({
    kind: 'lvs',
    writer: deps.writer,
    feed: deps.feed,
    db: deps.db,
    renderer,
    backends: deps.backends,
    pathOf: (id) => deps.tree.model.get(id)?.path ?? `#${id}`,
    ...(deps.debounceMs !== undefined ? { debounceMs: deps.debounceMs } : {}),
    ...(deps.keepVersions !== undefined ? { keepVersions: deps.keepVersions } : {}),
    ...(deps.onError ? { onError: deps.onError } : {}),
  });

  return {
    settings,
    publisher,
    /** Throws the ValidationError `apply` would for this draft, without checking or publishing. */
    validate: (draft: Parameters<typeof renderer.render>[0]) => void renderer.render(draft),
    async load(q: Queryable): Promise<void> {
      await settings.model.load(q);
      await publisher.load(q);
    },
    stop: () => publisher.stop(),
  };
}
