/**
 * How long published versions keep their content. Every version keeps its row (number, author,
 * reason, time, diff stats), but its files, settings snapshot, diff and check output are kept only
 * while it is one of:
 *  - the newest `keep` versions of its cluster (the newest is the one agents are served);
 *  - the newest `keep` versions operators published (apply, rollback): at one automatic version
 *    per backend change, a busy registry would otherwise push the version before a bad apply —
 *    the one rollback exists for — out of reach within minutes;
 *  - a version one of those rolled back to.
 * Everything else is pruned in the transaction that publishes a newer version (`repo.pruneVersions`),
 * so every replica sees the same history. Files and snapshots are content-addressed blobs shared
 * between versions, so a pruned version frees only what no kept version still names.
 */
import { ConflictError } from '@canopy/core';

/** Default of CANOPY_CONFIG_KEEP_VERSIONS. */
export const DEFAULT_KEEP_VERSIONS = 100;
/** At least the current version and the one before it, which its diff and lagging replicas read. */
export const MIN_KEEP_VERSIONS = 2;

/** What a pruned version is refused for. */
export type PrunedAction = 'show' | 'rollback';

/**
 * A version whose content was pruned was asked for its files, diff or settings; nothing changed.
 * A 409 problem with `contentPruned: true`, so clients can tell it from other conflicts.
 */
export class ContentPrunedError extends ConflictError {
  constructor(kind: string, clusterPath: string, version: number, keep: number, action: PrunedAction) {
    const what =
      `the content of v${version} of the ${kind} config of '${clusterPath}' was pruned: only the newest ${keep} versions, ` +
      `the newest ${keep} published by operators and the versions those rolled back to keep their files, settings and diff ` +
      `(CANOPY_CONFIG_KEEP_VERSIONS)`;
    super(
      action === 'rollback'
        ? `cannot roll back to v${version}: ${what}. Nothing was changed`
        : `${what}. The version list still shows its author, reason, time and diff stats`,
      { contentPruned: true, kind, cluster: clusterPath, version },
    );
  }
}
