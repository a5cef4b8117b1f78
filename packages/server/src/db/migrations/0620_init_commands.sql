-- Environment initialisation per node (`init` jobs): the command set on a node is inherited by the
-- machines below it, the nearest ancestor's winning; with none set, `puppet agent --test` runs.
CREATE TABLE node_init_commands (
  node_id    integer PRIMARY KEY REFERENCES nodes(id),
  command    jsonb NOT NULL,
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- What one host of a job runs when it differs from the job's spec (an init job resolves each
-- machine's command from its node when the job is created).
ALTER TABLE job_hosts ADD COLUMN spec jsonb;
