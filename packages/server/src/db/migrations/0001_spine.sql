-- The spine: service tree, machines, accounts and permissions, audit, change feed.

CREATE TABLE nodes (
  id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  parent_id    integer REFERENCES nodes(id),
  name         text NOT NULL,
  path         text NOT NULL,
  description  text NOT NULL DEFAULT '',
  labels       jsonb NOT NULL DEFAULT '{}'::jsonb,
  version      integer NOT NULL DEFAULT 1,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  deleted_at   timestamptz
);
-- Live paths are unique; trashed nodes keep the path they had so they can be restored there.
CREATE UNIQUE INDEX nodes_live_path ON nodes (path) WHERE deleted_at IS NULL;
-- Prefix scans (`path LIKE 'corp.ops.%'`) for subtrees, portable to PGlite and PostgreSQL >= 14.
CREATE INDEX nodes_path_prefix ON nodes (path text_pattern_ops);
CREATE INDEX nodes_parent ON nodes (parent_id);

-- Every path a node has had, so later systems (discovery aliases, ENC) can keep old names resolving.
CREATE TABLE node_path_history (
  node_id    integer NOT NULL REFERENCES nodes(id),
  old_path   text NOT NULL,
  new_path   text NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX node_path_history_old ON node_path_history (old_path);

CREATE TABLE machines (
  id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  hostname    text NOT NULL UNIQUE,
  ips         jsonb NOT NULL DEFAULT '[]'::jsonb,
  serial      text NOT NULL DEFAULT '',
  idc         text NOT NULL DEFAULT '',
  zone        text NOT NULL DEFAULT '',
  kind        text NOT NULL DEFAULT 'vm' CHECK (kind IN ('physical', 'vm')),
  cpu_cores   integer,
  memory_mb   integer,
  disk_gb     integer,
  os          text NOT NULL DEFAULT '',
  status      text NOT NULL DEFAULT 'installing'
              CHECK (status IN ('installing', 'online', 'offline', 'maintenance', 'retired')),
  labels      jsonb NOT NULL DEFAULT '{}'::jsonb,
  facts       jsonb NOT NULL DEFAULT '{}'::jsonb,
  version     integer NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX machines_status ON machines (status);

CREATE TABLE machine_nodes (
  machine_id integer NOT NULL REFERENCES machines(id),
  node_id    integer NOT NULL REFERENCES nodes(id),
  bound_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (machine_id, node_id)
);
CREATE INDEX machine_nodes_node ON machine_nodes (node_id, machine_id);

CREATE TABLE users (
  id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username      text NOT NULL UNIQUE,
  display_name  text NOT NULL DEFAULT '',
  email         text NOT NULL DEFAULT '',
  password_hash text,
  ssh_keys      jsonb NOT NULL DEFAULT '[]'::jsonb,
  superuser     boolean NOT NULL DEFAULT false,
  disabled      boolean NOT NULL DEFAULT false,
  version       integer NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE groups (
  id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  description text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE group_members (
  group_id integer NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  user_id  integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, user_id)
);

-- Secrets are stored as SHA-256 of a 256-bit random token: no salt needed, nothing to reverse.
CREATE TABLE api_tokens (
  id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id      integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name         text NOT NULL,
  token_hash   text NOT NULL UNIQUE,
  prefix       text NOT NULL,
  expires_at   timestamptz,
  last_used_at timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);

CREATE TABLE sessions (
  id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id     integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash  text NOT NULL UNIQUE,
  csrf_token  text NOT NULL,
  expires_at  timestamptz NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE roles (
  id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  description text NOT NULL DEFAULT '',
  operations  jsonb NOT NULL DEFAULT '[]'::jsonb,
  builtin     boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE grants (
  id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subject_kind text NOT NULL CHECK (subject_kind IN ('user', 'group')),
  subject_id   integer NOT NULL,
  role_id      integer NOT NULL REFERENCES roles(id),
  node_id      integer NOT NULL REFERENCES nodes(id),
  expires_at   timestamptz,
  created_by   integer REFERENCES users(id),
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX grants_subject ON grants (subject_kind, subject_id);
CREATE INDEX grants_node ON grants (node_id);

-- Append-only: no API updates or deletes these rows.
CREATE TABLE audit_log (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor_id    integer,
  actor       text NOT NULL,
  operation   text NOT NULL,
  target_kind text NOT NULL,
  target      text NOT NULL,
  node_id     integer,
  node_path   text,
  before      jsonb,
  after       jsonb,
  request_id  text
);
CREATE INDEX audit_log_node ON audit_log (node_id, id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_at ON audit_log (at);

-- The change feed (outbox): every write adds rows here in its own transaction; replicas follow it.
CREATE TABLE changes (
  revision bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topic    text NOT NULL,
  payload  jsonb NOT NULL,
  at       timestamptz NOT NULL DEFAULT now()
);
