-- Embedded metrics history (monitor capability). A series is one machine's metric with its labels
-- (the Prometheus-style key); its history is downsampled into tiers (0: 1 min buckets kept a day,
-- 1: 10 min kept a week, 2: 1 h kept 30 days), one row per series per chunk of buckets, the points
-- packed by core/monitor/codec.ts. The last hour of raw samples lives in memory only.
CREATE TABLE monitor_series (
  id         serial PRIMARY KEY,
  machine_id integer NOT NULL,
  key        text NOT NULL,
  UNIQUE (machine_id, key)
);

CREATE TABLE monitor_chunks (
  tier      smallint NOT NULL,
  -- The chunk's start, seconds since the epoch (a multiple of the tier's chunk length).
  start_s   integer NOT NULL,
  series_id integer NOT NULL,
  count     smallint NOT NULL,
  data      bytea NOT NULL,
  PRIMARY KEY (tier, start_s, series_id)
);
-- Packed floats do not compress: skip pglz's attempt on every write.
ALTER TABLE monitor_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

-- Collect rules per node (port, process, HTTP probe, script, log pattern), inherited below.
CREATE TABLE collect_rules (
  node_id    integer PRIMARY KEY REFERENCES nodes(id),
  rules      jsonb NOT NULL,
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
