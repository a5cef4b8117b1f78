-- Machine credentials: the bearer secret the agent on a machine authenticates with. It may register,
-- heartbeat and deregister that machine's own discovery instances, and read services (issue #3's
-- secure registration; the deploy agent builds on it). Only the SHA-256 of the secret is stored.

CREATE TABLE machine_credentials (
  id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  machine_id   integer NOT NULL REFERENCES machines(id),
  name         text NOT NULL,
  secret_hash  text NOT NULL UNIQUE,
  prefix       text NOT NULL,
  created_by   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (machine_id, name)
);
