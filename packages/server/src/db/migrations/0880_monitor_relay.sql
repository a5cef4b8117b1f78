-- Metric collections as one replica received them from its agents, for the other replicas to
-- ingest too (each replica's in-memory store then holds every machine's recent samples, so its
-- queries and the alert evaluator see them). Unlogged and pruned after minutes: a crash loses only
-- what the other replicas had not read yet, and the owner's history chunks keep the rest.
CREATE UNLOGGED TABLE monitor_relay (
  id          bigserial PRIMARY KEY,
  replica     text NOT NULL,
  machine_id  integer NOT NULL,
  samples     jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX monitor_relay_created ON monitor_relay (created_at);
