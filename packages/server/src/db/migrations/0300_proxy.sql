-- Nginx and LVS: the settings users edit (domains, per-service settings, clusters) and the
-- versions of generated configs published per cluster. Settings hang off tree nodes by id, so
-- renames keep working; each `settings` column holds the input validated by the core schemas.

CREATE TABLE nginx_domains (
  domain     text PRIMARY KEY,
  settings   jsonb NOT NULL,
  version    integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE nginx_services (
  node_id    integer PRIMARY KEY REFERENCES nodes(id),
  settings   jsonb NOT NULL,
  version    integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- A tree node whose machines run nginx: the domains it serves and how it listens.
CREATE TABLE nginx_clusters (
  node_id    integer PRIMARY KEY REFERENCES nodes(id),
  settings   jsonb NOT NULL,
  version    integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE lvs_services (
  node_id    integer PRIMARY KEY REFERENCES nodes(id),
  settings   jsonb NOT NULL,
  version    integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- A tree node of director machines: the service nodes (by id) it balances, flavor, FNAT groups.
CREATE TABLE lvs_clusters (
  node_id    integer PRIMARY KEY REFERENCES nodes(id),
  settings   jsonb NOT NULL,
  version    integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- File contents and settings snapshots (canonical JSON) by their sha256: consecutive versions
-- mostly share them (a backend change rewrites only the upstreams file and keeps the snapshot),
-- so each distinct content is stored once.
CREATE TABLE config_blobs (
  sha256  text PRIMARY KEY,
  content text NOT NULL
);

-- Every published config. `files` lists {path, sha256} in include order; `input_sha256` names the
-- settings snapshot the files were rendered from (backend changes re-render it with fresh
-- instances); `diff` is the unified diff against the previous version of the same cluster.
CREATE TABLE config_versions (
  kind            text NOT NULL CHECK (kind IN ('nginx', 'lvs')),
  cluster_node_id integer NOT NULL REFERENCES nodes(id),
  number          integer NOT NULL CHECK (number >= 1),
  files           jsonb NOT NULL,
  sha256          text NOT NULL,
  input_sha256    text NOT NULL,
  author          text NOT NULL,
  reason          text NOT NULL,
  diff            text NOT NULL,
  rollback_of     integer,
  check_output    text NOT NULL DEFAULT '',
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, cluster_node_id, number)
);
