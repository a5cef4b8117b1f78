-- The artifact repository: immutable versions per service node, content-addressed by sha256.
-- The bytes live in the blob store (data dir or S3 bucket) under their sha256; identical content
-- pushed twice (another version, another service) is one blob, deleted when no row names it.
CREATE TABLE artifacts (
  id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  node_id     integer NOT NULL REFERENCES nodes(id),
  version     text NOT NULL,
  sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  size        bigint NOT NULL CHECK (size >= 0),
  commit_id   text,
  builder     text,
  build_id    integer,
  log_ref     text,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  deployed_at timestamptz,
  UNIQUE (node_id, version)
);
CREATE INDEX artifacts_by_node ON artifacts (node_id, id DESC);
CREATE INDEX artifacts_by_sha ON artifacts (sha256);
