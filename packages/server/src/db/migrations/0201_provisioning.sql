-- The install (provisioning) system: a request names the node a machine being installed belongs to.

CREATE TABLE provisioning_requests (
  id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  hostname     text NOT NULL,
  node_id      integer NOT NULL REFERENCES nodes(id),
  idc          text NOT NULL DEFAULT '',
  zone         text NOT NULL DEFAULT '',
  os           text NOT NULL DEFAULT '',
  requested_by text NOT NULL DEFAULT '',
  note         text NOT NULL DEFAULT '',
  state        text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'bound', 'expired', 'cancelled')),
  machine_id   integer REFERENCES machines(id),
  created_by   text NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  closed_at    timestamptz,
  version      integer NOT NULL DEFAULT 1
);
-- At most one install in flight per host name.
CREATE UNIQUE INDEX provisioning_open_hostname ON provisioning_requests (hostname) WHERE state = 'open';
CREATE INDEX provisioning_state ON provisioning_requests (state, id);
