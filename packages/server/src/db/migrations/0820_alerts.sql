-- Alert rules on tree nodes (inherited below, overridden by name), the webhooks they notify,
-- silences, and every alert with its history. An entry whose spec says `disabled` switches off the
-- inherited rule of its name beneath its node.
CREATE TABLE alert_rules (
  node_id    integer NOT NULL REFERENCES nodes(id),
  name       text NOT NULL,
  spec       jsonb NOT NULL,
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (node_id, name)
);

-- Webhook receivers, looked up by name from the alerting node upwards; `spec` holds the secret.
CREATE TABLE alert_receivers (
  node_id    integer NOT NULL REFERENCES nodes(id),
  name       text NOT NULL,
  spec       jsonb NOT NULL,
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (node_id, name)
);

CREATE TABLE alert_silences (
  id         serial PRIMARY KEY,
  node_id    integer NOT NULL REFERENCES nodes(id),
  rule       text,
  machine    text,
  match      jsonb NOT NULL DEFAULT '{}',
  starts_at  timestamptz NOT NULL,
  ends_at    timestamptz NOT NULL,
  comment    text NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per alert (a rule on one machine and series); `key` names it while it lives, so a
-- rule firing again after it resolved is a new row: the history.
CREATE TABLE alerts (
  id               bigserial PRIMARY KEY,
  key              text NOT NULL,
  rule             text NOT NULL,
  origin_node_id   integer NOT NULL,
  node_id          integer NOT NULL,
  machine_id       integer,
  machine          text NOT NULL,
  labels           jsonb NOT NULL DEFAULT '{}',
  severity         text NOT NULL,
  state            text NOT NULL,
  value            double precision,
  summary          text NOT NULL DEFAULT '',
  source           text NOT NULL DEFAULT 'canopy',
  started_at       timestamptz NOT NULL,
  fired_at         timestamptz,
  resolved_at      timestamptz,
  acked_by         text,
  acked_at         timestamptz,
  notifications    integer NOT NULL DEFAULT 0,
  last_notified_at timestamptz,
  escalated        boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX alerts_live_key ON alerts (key) WHERE state <> 'resolved';
CREATE INDEX alerts_node_history ON alerts (node_id, id DESC);
