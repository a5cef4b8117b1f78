-- Scheduled jobs per node (cron). A node's entries are inherited by every machine below it; a row
-- with a null spec disables the inherited entry of that name on the node and below.
CREATE TABLE cron_entries (
  node_id    integer NOT NULL REFERENCES nodes(id),
  name       text NOT NULL,
  spec       jsonb,
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (node_id, name)
);

-- Runs as the agents report them, one row per run id (a resent report replaces, never adds).
CREATE TABLE cron_runs (
  id           uuid PRIMARY KEY,
  machine_id   integer NOT NULL REFERENCES machines(id),
  name         text NOT NULL,
  entry_key    text NOT NULL,
  source_path  text NOT NULL,
  state        text NOT NULL,
  scheduled_at timestamptz NOT NULL,
  started_at   timestamptz,
  ended_at     timestamptz,
  exit_code    integer,
  reason       text,
  stdout       text NOT NULL DEFAULT '',
  stderr       text NOT NULL DEFAULT '',
  truncated    bigint NOT NULL DEFAULT 0,
  received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cron_runs_name_time ON cron_runs (name, scheduled_at DESC, id DESC);
CREATE INDEX cron_runs_machine_name_time ON cron_runs (machine_id, name, scheduled_at DESC, id DESC);
