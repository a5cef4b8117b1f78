-- SSH access from the tree (ssh/): per-node settings (a shared account users log in as below the
-- node, the agents' cache validity), the shared accounts' stable uids, break-glass keys per node,
-- and every login the agents report.
CREATE TABLE ssh_node_settings (
  node_id        integer PRIMARY KEY REFERENCES nodes(id),
  login_as       text,
  cache_seconds  integer,
  updated_by     text NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- A shared account keeps its uid on every machine for good (files it owns stay its own).
CREATE TABLE ssh_shared_accounts (
  id    serial PRIMARY KEY,
  name  text NOT NULL UNIQUE
);

CREATE TABLE ssh_break_glass (
  id           serial PRIMARY KEY,
  node_id      integer NOT NULL REFERENCES nodes(id),
  public_key   text NOT NULL,
  fingerprint  text NOT NULL,
  created_by   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);
CREATE INDEX ssh_break_glass_node ON ssh_break_glass (node_id) WHERE revoked_at IS NULL;

CREATE TABLE ssh_logins (
  id                bigserial PRIMARY KEY,
  event_id          text NOT NULL,
  at                timestamptz NOT NULL,
  machine_id        integer NOT NULL,
  hostname          text NOT NULL,
  account           text NOT NULL,
  username          text,
  from_addr         text NOT NULL,
  result            text NOT NULL,
  method            text NOT NULL,
  fingerprint       text,
  break_glass_node  text,
  reason            text NOT NULL DEFAULT '',
  received_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ssh_logins_machine ON ssh_logins (machine_id, id DESC);
CREATE INDEX ssh_logins_user ON ssh_logins (username, id DESC);
-- An agent resends a batch it saw no acknowledgement for: the same login is stored once.
CREATE UNIQUE INDEX ssh_logins_once ON ssh_logins (machine_id, event_id);
