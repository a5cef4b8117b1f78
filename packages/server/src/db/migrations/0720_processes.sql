-- Supervised processes (issue 11): what a node declares it runs, and the live state agents push.
-- One `process` task per machine of the node carries the declaration (tasks.owner_kind 'process',
-- owner_id the node); a restart or a new declaration bumps the generation, and tasks of the new
-- generation replace the older ones machine by machine.
CREATE TABLE process_specs (
  node_id    integer PRIMARY KEY REFERENCES nodes(id),
  spec       jsonb NOT NULL,
  desired    text NOT NULL CHECK (desired IN ('running', 'stopped')),
  generation integer NOT NULL CHECK (generation >= 1),
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The newest state an agent pushed per process task (pid, uptime, restarts, health, flapping).
CREATE TABLE process_states (
  task_id    text PRIMARY KEY,
  node_id    integer NOT NULL,
  machine_id integer NOT NULL REFERENCES machines(id),
  live       jsonb NOT NULL,
  at         timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX process_states_node ON process_states (node_id, machine_id);
