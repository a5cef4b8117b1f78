-- Deployments (issue 11): a rolling update of a node's supervised process to a version of its
-- artifact repository, batch by batch over the node's machines (core/deploy/plan.ts decides).
-- While a deployment is active, or when it stopped half way, it owns the node's process tasks:
-- the process orchestrator leaves the node alone until a deployment finishes cleanly.
CREATE TABLE deployments (
  id               integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  node_id          integer NOT NULL REFERENCES nodes(id),
  version          text NOT NULL,
  previous_version text,
  release          jsonb NOT NULL,
  strategy         jsonb NOT NULL,
  generation       integer NOT NULL,
  state            text NOT NULL CHECK (state IN ('awaiting-approval', 'staging', 'running', 'paused', 'stopping', 'stopped', 'succeeded', 'failed', 'rolled-back')),
  reason           text,
  note             text,
  batches          jsonb NOT NULL,
  current_batch    integer NOT NULL DEFAULT 0,
  batch_up_at      timestamptz,
  canary_passed    boolean NOT NULL DEFAULT false,
  rollback_of      integer REFERENCES deployments(id),
  -- It owns the node's process tasks: while active, and after a stop that left hosts switched.
  holds            boolean NOT NULL DEFAULT true,
  created_by       text NOT NULL,
  approved_by      text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz
);
-- One active deployment per node, even when two replicas take a request at once.
CREATE UNIQUE INDEX deployments_one_active ON deployments (node_id)
  WHERE state IN ('awaiting-approval', 'staging', 'running', 'paused', 'stopping');
CREATE INDEX deployments_by_node ON deployments (node_id, id DESC);

-- Each host of a deployment: its batch, where it is in its switch, the task it ran and the new one.
CREATE TABLE deployment_hosts (
  deployment_id integer NOT NULL REFERENCES deployments(id),
  machine_id    integer NOT NULL REFERENCES machines(id),
  batch         integer NOT NULL,
  state         text NOT NULL,
  reason        text,
  from_version  text,
  old_tasks     jsonb NOT NULL DEFAULT '[]',
  new_task      text REFERENCES tasks(id),
  since         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (deployment_id, machine_id)
);

-- Per-node deployment settings, inherited below the node (nearest set wins).
CREATE TABLE deploy_policies (
  node_id          integer PRIMARY KEY REFERENCES nodes(id),
  require_approval boolean NOT NULL,
  updated_by       text NOT NULL,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- The release new process tasks of the node get (the last deployment that finished cleanly).
ALTER TABLE process_specs ADD COLUMN release jsonb;
