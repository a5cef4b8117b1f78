-- SSH certificate authorities (ssh/ca.ts): the user CA signs users' keys for a few hours, the host
-- CA signs machines' host keys so `canopy ssh` needs no trust-on-first-use. Made on first start;
-- the seed is the CA's private key and never leaves the control center.
CREATE TABLE ssh_cas (
  kind        text PRIMARY KEY,
  seed        text NOT NULL,
  public_key  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Every user certificate issued; a revoked one reaches sshd through the agents' KRL until it expires.
CREATE TABLE ssh_certificates (
  serial        bigserial PRIMARY KEY,
  user_id       integer NOT NULL,
  username      text NOT NULL,
  fingerprint   text NOT NULL,
  principals    jsonb NOT NULL,
  valid_after   timestamptz NOT NULL,
  valid_before  timestamptz NOT NULL,
  revoked_at    timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ssh_certificates_user ON ssh_certificates (username, serial DESC);
CREATE INDEX ssh_certificates_revoked ON ssh_certificates (valid_before) WHERE revoked_at IS NOT NULL;
