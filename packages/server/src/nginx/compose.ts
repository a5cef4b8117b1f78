/** Whole-cluster rendering: cross-object checks, routing of domain URIs, and file composition. */
import { ValidationError, type FieldIssue } from '@canopy/core';
import type { DomainRoute, NginxClusterInput, NginxRenderOptions, NginxService, RenderedConfig } from './model.ts';
import { renderDefaultServers, renderDomainServers, renderHttpPrelude, renderUpstream } from './render.ts';
import { byCodeUnit } from './escape.ts';

/** File names, in include order; they sort in that order too, so `include dir/*.conf` works. */
export const NGINX_FILES = {
  http: '00-canopy-http.conf',
  upstreams: '10-canopy-upstreams.conf',
  servers: '20-canopy-servers.conf',
} as const;

/**
 * The routes of every domain the cluster serves, keyed by domain name. Domain URIs that name a
 * domain outside the cluster belong to another cluster and are skipped.
 */
export function routesByDomain(input: NginxClusterInput): Map<string, DomainRoute[]> {
  const routes = new Map<string, DomainRoute[]>();
  for (const d of input.domains) routes.set(d.domain, []);
  for (const service of input.services) {
    for (const du of service.domainUris) routes.get(du.domain)?.push({ uri: du.uri, service });
  }
  return routes;
}

/** Every cross-object rule a single schema cannot see; throws one ValidationError listing all. */
export function validateCluster(input: NginxClusterInput, routes = routesByDomain(input)): void {
  const issues: FieldIssue[] = [];
  const upstreams = new Set<string>();
  input.services.forEach((s, i) => {
    if (upstreams.has(s.upstream)) issues.push({ path: ['services', i, 'upstream'], message: `upstream '${s.upstream}' is used by two services` });
    upstreams.add(s.upstream);
  });
  const domains = new Set<string>();
  // nginx ORs `ssl` across every server on one address:port, so one ssl domain would turn a
  // plain domain on the same port into TLS: refuse the mix instead.
  const portSsl = new Map<number, { ssl: boolean; domain: string }>();
  input.domains.forEach((d, i) => {
    if (domains.has(d.domain)) issues.push({ path: ['domains', i, 'domain'], message: `domain '${d.domain}' is listed twice` });
    domains.add(d.domain);
    d.ports.forEach((p, j) => {
      const seen = portSsl.get(p.port);
      if (seen === undefined) portSsl.set(p.port, { ssl: p.ssl, domain: d.domain });
      else if (seen.ssl !== p.ssl) {
        issues.push({
          path: ['domains', i, 'ports', j, 'ssl'],
          message: `port ${p.port} is ${seen.ssl ? 'ssl' : 'plain'} for ${seen.domain}; one port cannot mix ssl and plain`,
        });
      }
    });
    if (d.ports.some((p) => p.ssl) && (d.sslCertPath === undefined || d.sslCertKeyPath === undefined)) {
      issues.push({ path: ['domains', i, 'sslCertPath'], message: `${d.domain} has an ssl port but no certificate and key` });
    }
  });
  for (const [domain, list] of routes) {
    const owner = new Map<string, string>();
    for (const r of list) {
      const prev = owner.get(r.uri);
      if (prev !== undefined) {
        issues.push({ path: ['domainUris', domain, r.uri], message: `${domain}${r.uri} is claimed by upstreams '${prev}' and '${r.service.upstream}'` });
      }
      owner.set(r.uri, r.service.upstream);
    }
  }
  if (issues.length > 0) throw new ValidationError('the nginx cluster configuration is inconsistent', issues);
}

// Re-throws a chunk's ValidationError with its position in the cluster input in front of each path.
function within<T>(prefix: (string | number)[], render: () => T): T {
  try {
    return render();
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    throw new ValidationError(err.message, err.issues.map((i) => ({ ...i, path: [...prefix, ...i.path] })));
  }
}

/** The cached chunks a caller keeps per upstream and per domain, keyed by name. */
export interface NginxChunks {
  /** From `renderHttpPrelude(domains)`; changes only when the set of domain names does. */
  http: string;
  upstreams: ReadonlyMap<string, string>;
  domains: ReadonlyMap<string, string>;
  /** From `renderDefaultServers`, or '' when the cluster does not want catch-all servers. */
  defaults: string;
}

/** Joins cached chunks into the files; keys are sorted so the output does not depend on insertion order. */
export function composeNginxFiles(chunks: NginxChunks): RenderedConfig {
  const join = (m: ReadonlyMap<string, string>): string => {
    const keys = [...m.keys()].sort(byCodeUnit);
    const parts = new Array<string>(keys.length);
    for (let i = 0; i < keys.length; i++) parts[i] = m.get(keys[i] as string) as string;
    return parts.join('');
  };
  return {
    files: [
      { path: NGINX_FILES.http, content: chunks.http },
      { path: NGINX_FILES.upstreams, content: join(chunks.upstreams) },
      { path: NGINX_FILES.servers, content: chunks.defaults + join(chunks.domains) },
    ],
  };
}

/** Every chunk of a cluster: upstreams of the services routed from its domains, and every domain. */
export function renderNginxChunks(input: NginxClusterInput, opts: NginxRenderOptions = {}): NginxChunks {
  const routes = routesByDomain(input);
  validateCluster(input, routes);
  const used = new Set<NginxService>();
  for (const list of routes.values()) for (const r of list) used.add(r.service);
  const upstreams = new Map<string, string>();
  input.services.forEach((s, i) => {
    if (used.has(s)) upstreams.set(s.upstream, within(['services', i], () => renderUpstream(s)));
  });
  const domains = new Map<string, string>();
  const ports = new Map<number, boolean>();
  input.domains.forEach((d, i) => {
    domains.set(d.domain, within(['domains', i], () => renderDomainServers(d, routes.get(d.domain) ?? [], opts)));
    for (const p of d.ports) ports.set(p.port, p.ssl);
  });
  const defaults = opts.defaultServers === false ? '' : renderDefaultServers([...ports].map(([port, ssl]) => ({ port, ssl })), opts);
  return { http: renderHttpPrelude(input.domains), upstreams, domains, defaults };
}

/** The whole cluster config: deterministic, byte-identical for the same input. */
export function renderNginxConfig(input: NginxClusterInput, opts: NginxRenderOptions = {}): RenderedConfig {
  return composeNginxFiles(renderNginxChunks(input, opts));
}
