-- Audit snapshots written before every timestamptz was parsed as ISO 8601 hold PostgreSQL's text
-- format ("2026-12-04 06:52:50.971+00"); rewrite them as ISO 8601 UTC ("2026-12-04T06:52:50.971Z")
-- so the audit log answers one format. Only UTC (+00) text was ever written: the sessions ran in UTC.
UPDATE audit_log
   SET before = regexp_replace(before::text, '"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(\.\d+)?)\+00"', '"\1T\2Z"', 'g')::jsonb
 WHERE before::text ~ '"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?\+00"';
UPDATE audit_log
   SET after = regexp_replace(after::text, '"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(\.\d+)?)\+00"', '"\1T\2Z"', 'g')::jsonb
 WHERE after::text ~ '"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?\+00"';
