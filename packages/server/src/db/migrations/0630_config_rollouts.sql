-- Config push (DESIGN.md §6): each published nginx/LVS version of a cluster goes to one machine of
-- the cluster first, then to the rest, as `config` tasks. One row per cluster holds the version being
-- rolled out and how far it got; one row per machine of a cluster holds the version it runs.
CREATE TABLE config_rollouts (
  kind              text NOT NULL CHECK (kind IN ('nginx', 'lvs')),
  cluster_node_id   integer NOT NULL REFERENCES nodes(id),
  -- The target: the cluster's newest published version when this row was last moved on.
  version           integer NOT NULL,
  state             text NOT NULL CHECK (state IN ('canary', 'rolling', 'done', 'failed')),
  canary_machine_id integer REFERENCES machines(id),
  failed_machine_id integer REFERENCES machines(id),
  error             text,
  started_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, cluster_node_id)
);

CREATE TABLE config_machine_versions (
  kind            text NOT NULL CHECK (kind IN ('nginx', 'lvs')),
  cluster_node_id integer NOT NULL REFERENCES nodes(id),
  machine_id      integer NOT NULL REFERENCES machines(id),
  -- The last version the machine applied (checked and reloaded); null before the first.
  version         integer,
  applied_at      timestamptz,
  -- The config task in flight and the version it carries; null when none is.
  task_id         text,
  task_version    integer,
  -- The last failure on this machine, until a later version applies.
  failed_version  integer,
  error           text,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, cluster_node_id, machine_id)
);
-- A task id belongs to one machine row (claimMachine gives a row a task only while it has none).
CREATE UNIQUE INDEX config_machine_versions_task ON config_machine_versions (task_id) WHERE task_id IS NOT NULL;
