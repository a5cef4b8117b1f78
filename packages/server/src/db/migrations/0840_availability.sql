-- Availability from nginx access logs (issue 12): counts pushed by the agents on nginx machines,
-- per service node, route (domain + location) and backend ('' = the requests' final status), in
-- two tiers: 10 s buckets for the last hour, 1 h buckets for the SLO windows. A row holds the
-- bucket's status counts and latency histogram, not one row per request or per push.
CREATE TABLE availability_counts (
  node_id   integer NOT NULL,
  domain    text NOT NULL,
  location  text NOT NULL,
  backend   text NOT NULL,
  tier      smallint NOT NULL CHECK (tier IN (0, 1)),
  bucket_ms bigint NOT NULL,
  statuses  jsonb NOT NULL,
  latency   jsonb NOT NULL,
  PRIMARY KEY (node_id, tier, bucket_ms, domain, location, backend)
);
CREATE INDEX availability_counts_age ON availability_counts (tier, bucket_ms);

-- Each agent state dir numbers its batches; a batch at or below last_seq was counted already.
CREATE TABLE availability_sources (
  source     text PRIMARY KEY,
  machine_id integer NOT NULL,
  last_seq   bigint NOT NULL,
  last_from  bigint NOT NULL,
  last_to    bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Per service: SLO, what counts as failure, outlier detection settings (defaults when absent).
CREATE TABLE availability_settings (
  node_id    integer PRIMARY KEY REFERENCES nodes(id) ON DELETE CASCADE,
  settings   jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Outlier detection per backend of a service: Envoy's ejection state; one row per backend seen.
CREATE TABLE availability_outliers (
  node_id      integer NOT NULL,
  backend      text NOT NULL,
  ejected      boolean NOT NULL,
  count        integer NOT NULL,
  ejected_at   bigint NOT NULL,
  until_ms     bigint NOT NULL,
  -- The instance the ejection drained (hostname, port), to put back when it returns.
  hostname     text,
  port         integer,
  PRIMARY KEY (node_id, backend)
);

-- Every ejection and return, for the console's history (the audit log has them too).
CREATE TABLE availability_ejections (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  node_id     integer NOT NULL,
  backend     text NOT NULL,
  hostname    text,
  port        integer,
  reason      text NOT NULL,
  detail      text NOT NULL,
  ejected_at  timestamptz NOT NULL DEFAULT now(),
  until_at    timestamptz NOT NULL,
  returned_at timestamptz
);
CREATE INDEX availability_ejections_node ON availability_ejections (node_id, id);
