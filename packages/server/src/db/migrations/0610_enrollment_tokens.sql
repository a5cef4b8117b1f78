-- An install request may carry an enrollment token: the agent on the new machine exchanges it, once,
-- for a machine credential. Only the SHA-256 of the token is kept; it expires with the request.

ALTER TABLE provisioning_requests ADD COLUMN token_hash text UNIQUE;
ALTER TABLE provisioning_requests ADD COLUMN enrolled_at timestamptz;
