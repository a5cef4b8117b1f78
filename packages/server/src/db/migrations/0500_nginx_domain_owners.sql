-- Who may attach URIs to a domain: its owner node, and the URI prefixes the owner delegated to
-- other nodes. One row per domain, shaped like the settings tables (key, jsonb, version) so the
-- same read model and change feed carry it:
--   settings = {"ownerId": <node id> | null, "delegations": [{"id", "uriPrefix", "nodeId", "by", "at"}]}
-- A null owner means only a superuser may attach URIs or delegate until a superuser sets one.
CREATE TABLE nginx_domain_access (
  domain     text PRIMARY KEY REFERENCES nginx_domains(domain),
  settings   jsonb NOT NULL,
  version    integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Who last changed each settings row (the plan names whose change a hunk comes from).
ALTER TABLE nginx_domains ADD COLUMN updated_by text NOT NULL DEFAULT '';
ALTER TABLE nginx_services ADD COLUMN updated_by text NOT NULL DEFAULT '';
ALTER TABLE nginx_clusters ADD COLUMN updated_by text NOT NULL DEFAULT '';
ALTER TABLE lvs_services ADD COLUMN updated_by text NOT NULL DEFAULT '';
ALTER TABLE lvs_clusters ADD COLUMN updated_by text NOT NULL DEFAULT '';
ALTER TABLE nginx_domain_access ADD COLUMN updated_by text NOT NULL DEFAULT '';

-- Owners of existing domains: the nearest common ancestor of the live services routing from the
-- domain (the team that uses it); for a domain no service uses, of the clusters serving it. No
-- users, or users under different top-level nodes: no owner (a superuser sets one).
WITH users AS (
  SELECT d.domain, n.path
  FROM nginx_domains d
  JOIN nginx_services s ON s.settings->'domainUris' @> jsonb_build_array(jsonb_build_object('domain', d.domain))
  JOIN nodes n ON n.id = s.node_id AND n.deleted_at IS NULL
), cluster_users AS (
  SELECT d.domain, n.path
  FROM nginx_domains d
  JOIN nginx_clusters c ON c.settings->'domains' @> jsonb_build_array(d.domain)
  JOIN nodes n ON n.id = c.node_id AND n.deleted_at IS NULL
  WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.domain = d.domain)
), all_users AS (
  SELECT * FROM users UNION SELECT * FROM cluster_users
), candidates AS (
  SELECT DISTINCT u.domain, a.id, a.path
  FROM all_users u
  JOIN nodes a ON a.deleted_at IS NULL AND (u.path = a.path OR u.path LIKE a.path || '.%')
), owners AS (
  SELECT DISTINCT ON (c.domain) c.domain, c.id
  FROM candidates c
  WHERE NOT EXISTS (
    SELECT 1 FROM all_users u WHERE u.domain = c.domain AND NOT (u.path = c.path OR u.path LIKE c.path || '.%')
  )
  ORDER BY c.domain, length(c.path) DESC
)
INSERT INTO nginx_domain_access (domain, settings, updated_by)
SELECT d.domain, jsonb_build_object('ownerId', o.id, 'delegations', '[]'::jsonb), 'migration 0500'
FROM nginx_domains d LEFT JOIN owners o ON o.domain = d.domain;
