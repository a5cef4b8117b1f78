-- Puppet ENC (issue #4): the classes catalog, the default class set, and per-node associations.

-- The catalog is one document: the Puppet code base publishes it whole, so it is stored whole.
-- A failed fetch only touches the last_* columns; the classes stay as they were.
CREATE TABLE puppet_catalog (
  id              smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  classes         jsonb NOT NULL DEFAULT '[]'::jsonb,
  source          text NOT NULL DEFAULT 'none' CHECK (source IN ('none', 'url', 'upload')),
  source_url      text,
  sha256          text NOT NULL DEFAULT '',
  version         integer NOT NULL DEFAULT 1,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  fetched_at      timestamptz,
  last_attempt_at timestamptz,
  last_error      text
);
INSERT INTO puppet_catalog (id) VALUES (1);

-- What a machine gets when its nodes disagree: the base environment only.
CREATE TABLE puppet_defaults (
  id          smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  classes     jsonb NOT NULL DEFAULT '{}'::jsonb,
  environment text NOT NULL DEFAULT 'production',
  version     integer NOT NULL DEFAULT 1,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO puppet_defaults (id) VALUES (1);

-- Keyed by node id, so a rename or move of the node (or of an ancestor) keeps the association.
-- classes NULL: inherit the nearest ancestor's set; '{}': no classes on purpose.
CREATE TABLE node_puppet (
  node_id     integer PRIMARY KEY REFERENCES nodes(id),
  classes     jsonb,
  parameters  jsonb NOT NULL DEFAULT '{}'::jsonb,
  environment text,
  version     integer NOT NULL DEFAULT 1,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  updated_by  text NOT NULL DEFAULT ''
);
