-- Accounts hardening: the auth log of login attempts, and users that can be deleted.

-- Every login attempt: success, a refused password, or a refusal by the rate limiter. Append-only
-- but for `attempts`, which counts the rate limiter's refusals of one address and user name within
-- one limiter window on a single row, so a flood of refused attempts cannot fill the database.
-- `username` is what was typed (it may name nobody); `user_id` has no foreign key, so the log
-- outlives a deleted user.
CREATE TABLE auth_log (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  username   text NOT NULL,
  user_id    integer,
  outcome    text NOT NULL CHECK (outcome IN ('success', 'failure', 'rate_limited')),
  address    text NOT NULL DEFAULT '',
  user_agent text NOT NULL DEFAULT '',
  attempts   integer NOT NULL DEFAULT 1
);
CREATE INDEX auth_log_username ON auth_log (username, id);
CREATE INDEX auth_log_at ON auth_log (at);

-- A grant outlives the user who made it.
ALTER TABLE grants DROP CONSTRAINT grants_created_by_fkey;
ALTER TABLE grants ADD CONSTRAINT grants_created_by_fkey FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL;
