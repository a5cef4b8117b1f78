-- Service discovery: services (tree nodes), instances (machine + port), aliases, dependencies.
-- Heartbeats live in memory; discovery_heartbeats only carries each instance's last-seen time
-- between replicas, written in batches.

CREATE TABLE discovery_services (
  node_id                  integer PRIMARY KEY REFERENCES nodes(id),
  ports                    jsonb NOT NULL,
  lb_algorithm             text NOT NULL,
  lb_hash_key              text,
  protect_threshold        double precision NOT NULL DEFAULT 0 CHECK (protect_threshold BETWEEN 0 AND 1),
  zone_aware               boolean NOT NULL DEFAULT false,
  zone_min_healthy         integer NOT NULL DEFAULT 1 CHECK (zone_min_healthy >= 1),
  passes_before_passing    integer NOT NULL DEFAULT 1 CHECK (passes_before_passing >= 1),
  failures_before_critical integer NOT NULL DEFAULT 1 CHECK (failures_before_critical >= 1),
  version                  integer NOT NULL DEFAULT 1,
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE discovery_instances (
  id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  node_id     integer NOT NULL REFERENCES discovery_services(node_id) ON DELETE CASCADE,
  machine_id  integer NOT NULL REFERENCES machines(id),
  port        integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
  port_name   text NOT NULL,
  -- NULL: follow the machine's first address.
  ip          text,
  weight      integer NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 1000),
  status      text NOT NULL DEFAULT 'up' CHECK (status IN ('up', 'draining', 'down')),
  health      text NOT NULL DEFAULT 'passing' CHECK (health IN ('passing', 'warning', 'critical')),
  ttl_seconds integer CHECK (ttl_seconds IS NULL OR ttl_seconds >= 1),
  meta        jsonb NOT NULL DEFAULT '{}'::jsonb,
  version     integer NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (node_id, machine_id, port)
);
CREATE INDEX discovery_instances_machine ON discovery_instances (machine_id);

CREATE TABLE discovery_heartbeats (
  instance_id  integer PRIMARY KEY REFERENCES discovery_instances(id) ON DELETE CASCADE,
  last_seen_ms bigint NOT NULL
);

-- An alias is a name, not a node: it may sit where no node is (an old or a virtual path). It
-- names a service node by id (so renames follow) or another alias by path.
CREATE TABLE discovery_aliases (
  path           text PRIMARY KEY,
  target_node_id integer REFERENCES nodes(id),
  target_path    text,
  version        integer NOT NULL DEFAULT 1,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CHECK ((target_node_id IS NULL) <> (target_path IS NULL))
);
CREATE INDEX discovery_aliases_target_node ON discovery_aliases (target_node_id);

CREATE TABLE discovery_dependencies (
  node_id    integer NOT NULL REFERENCES discovery_services(node_id) ON DELETE CASCADE,
  depends_on integer NOT NULL REFERENCES nodes(id),
  PRIMARY KEY (node_id, depends_on)
);

-- Edges seen from authenticated lookups, aggregated in memory and added here in batches.
CREATE TABLE discovery_observed_edges (
  caller_node_id integer NOT NULL REFERENCES nodes(id),
  callee_node_id integer NOT NULL REFERENCES nodes(id),
  calls          bigint NOT NULL DEFAULT 0,
  first_seen     timestamptz NOT NULL DEFAULT now(),
  last_seen      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (caller_node_id, callee_node_id)
);
CREATE INDEX discovery_observed_edges_callee ON discovery_observed_edges (callee_node_id);
