-- Builds (构建): a commit of a git repository built on a machine of the service's build pool,
-- packaged as tar.gz and stored in the artifact repository. Per-node settings inherit downwards.
CREATE TABLE build_settings (
  node_id          integer PRIMARY KEY REFERENCES nodes(id),
  pool_node_id     integer REFERENCES nodes(id),
  max_per_machine  integer CHECK (max_per_machine BETWEEN 1 AND 64),
  run_as           text,
  updated_by       text NOT NULL,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE builds (
  id               integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  node_id          integer NOT NULL REFERENCES nodes(id),
  node_path        text NOT NULL,
  pool_node_id     integer NOT NULL REFERENCES nodes(id),
  pool_path        text NOT NULL,
  repo             text NOT NULL,
  ref              text NOT NULL,
  command          text NOT NULL,
  output_path      text NOT NULL,
  env              jsonb NOT NULL DEFAULT '{}',
  run_as           text NOT NULL DEFAULT 'root',
  timeout_seconds  integer NOT NULL,
  version          text,
  state            text NOT NULL CHECK (state IN ('queued', 'running', 'cancelling', 'succeeded', 'failed', 'cancelled')),
  reason           text,
  machine_id       integer REFERENCES machines(id),
  hostname         text,
  task_id          text REFERENCES tasks(id),
  commit_sha       text,
  artifact_version text,
  artifact_sha256  text,
  artifact_size    bigint,
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  finished_at      timestamptz
);
-- Listed per subtree by node id (paths change on rename; node_path keeps the path at creation).
CREATE INDEX builds_by_node ON builds (node_id, id DESC);
CREATE INDEX builds_unfinished ON builds (pool_node_id, id) WHERE state IN ('queued', 'running', 'cancelling');
CREATE INDEX builds_by_task ON builds (task_id);
