-- Retention of published config versions (CANOPY_CONFIG_KEEP_VERSIONS). A pruned version keeps
-- its row (number, author, reason, time, rollback_of, diff stats) but loses its content: the diff
-- and check output are emptied, and the blobs (files, settings snapshot) that no kept version
-- names any more are deleted. Pruning runs in the transaction that publishes a newer version.

ALTER TABLE config_versions
  ADD COLUMN added     integer NOT NULL DEFAULT 0,
  ADD COLUMN removed   integer NOT NULL DEFAULT 0,
  -- Published by a backend change rather than by an operator's apply or rollback.
  ADD COLUMN automatic boolean NOT NULL DEFAULT false,
  ADD COLUMN pruned_at timestamptz;

-- Diff stats as diffStat() counts them; automatic versions as the publisher wrote them so far.
UPDATE config_versions v SET
  added = (SELECT count(*) FROM regexp_split_to_table(v.diff, E'\n') l WHERE l LIKE '+%' AND l NOT LIKE '+++ %'),
  removed = (SELECT count(*) FROM regexp_split_to_table(v.diff, E'\n') l WHERE l LIKE '-%' AND l NOT LIKE '--- %'),
  automatic = (v.author = 'system' AND v.rollback_of IS NULL AND v.reason LIKE 'instances changed%');

-- The versions still holding content, found without reading a cluster's whole history.
CREATE INDEX config_versions_kept ON config_versions (kind, cluster_node_id, number) WHERE pruned_at IS NULL;
-- The newest versions operators published, among many automatic ones.
CREATE INDEX config_versions_by_operators ON config_versions (kind, cluster_node_id, number) WHERE NOT automatic;
-- Whether any kept version (of any cluster: blobs are shared) still names a blob before it is deleted.
CREATE INDEX config_versions_kept_files ON config_versions USING gin (files jsonb_path_ops) WHERE pruned_at IS NULL;
CREATE INDEX config_versions_kept_inputs ON config_versions (input_sha256) WHERE pruned_at IS NULL;
