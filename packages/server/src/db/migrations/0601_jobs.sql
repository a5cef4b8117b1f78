-- Batch jobs (批量执行、初始化、重启): one row per job, one per target machine.
CREATE TABLE jobs (
  id             integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind           text NOT NULL CHECK (kind IN ('exec', 'reboot', 'init')),
  node_id        integer REFERENCES nodes(id),
  node_path      text,
  target         jsonb NOT NULL,
  spec           jsonb NOT NULL,
  batch          jsonb NOT NULL,
  batches        jsonb NOT NULL,
  current_batch  integer NOT NULL DEFAULT 0,
  state          text NOT NULL CHECK (state IN ('running', 'paused', 'stopping', 'stopped', 'succeeded', 'failed')),
  paused_because text,
  canary_passed  boolean NOT NULL DEFAULT false,
  description    text NOT NULL DEFAULT '',
  created_by     text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz
);
CREATE INDEX jobs_by_node ON jobs (node_path text_pattern_ops, id DESC);

CREATE TABLE job_hosts (
  job_id      integer NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  machine_id  integer NOT NULL REFERENCES machines(id),
  hostname    text NOT NULL,
  batch       integer NOT NULL,
  state       text NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'stopped', 'skipped')),
  attempt     integer NOT NULL DEFAULT 0,
  task_id     text REFERENCES tasks(id),
  PRIMARY KEY (job_id, machine_id)
);
CREATE INDEX job_hosts_by_task ON job_hosts (task_id);
