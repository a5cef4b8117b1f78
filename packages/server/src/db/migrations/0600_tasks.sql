-- Tasks: work for the agent on one machine (DESIGN.md §6). The control center writes `desired`; the
-- agent's reports write `state` and what goes with it, only ever forward.
CREATE TABLE tasks (
  id           text PRIMARY KEY,
  machine_id   integer NOT NULL REFERENCES machines(id),
  kind         text NOT NULL,
  spec         jsonb NOT NULL,
  desired      smallint NOT NULL,
  state        smallint NOT NULL DEFAULT 0,
  message      text NOT NULL DEFAULT '',
  error        text,
  exit_code    integer,
  stdout       text NOT NULL DEFAULT '',
  stderr       text NOT NULL DEFAULT '',
  stdout_bytes integer NOT NULL DEFAULT 0,
  stderr_bytes integer NOT NULL DEFAULT 0,
  truncated    bigint NOT NULL DEFAULT 0,
  -- What asked for the task (a job, a deployment…), so its orchestrator finds its tasks.
  owner_kind   text,
  owner_id     bigint,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  started_at   timestamptz,
  finished_at  timestamptz
);
CREATE INDEX tasks_open_by_machine ON tasks (machine_id) WHERE state < 576;
CREATE INDEX tasks_by_owner ON tasks (owner_kind, owner_id);

-- The agent of each machine as the control center last saw it.
CREATE TABLE agent_status (
  machine_id        integer PRIMARY KEY REFERENCES machines(id),
  state             text NOT NULL CHECK (state IN ('connected', 'unreachable', 'disconnected')),
  agent_version     text NOT NULL DEFAULT '',
  facts             jsonb,
  replica           text NOT NULL DEFAULT '',
  connected_at      timestamptz,
  last_heartbeat_at timestamptz,
  changed_at        timestamptz NOT NULL DEFAULT now()
);
