/**
 * The Nginx tab's data: the API's views (types from @canopy/core only, so zod stays out of the
 * bundle), the allow-listed attributes as the form offers them, and the form drafts turned back
 * into request bodies — empty fields dropped, so the server's defaults apply.
 */
import type { NginxDomainInput, NginxDomainSettings, NginxServiceInput, NginxServiceSettings } from '@canopy/core';
import type { PublishStatus } from '../proxy-shared/model.ts';

/** A URI prefix of a domain its owner lets the services under `node` attach. */
export interface DelegationView {
  id: number;
  uriPrefix: string;
  node: string;
  by: string;
  at: string;
}

/** `GET /domains/{domain}`: the domain, its owner and delegations (hidden nodes counted, not named), the clusters serving it. */
export type DomainView = NginxDomainSettings & {
  owner: string | null;
  ownerHidden: boolean;
  delegations: DelegationView[];
  hiddenDelegations: number;
  clusters: string[];
  version: number;
  updatedAt: string;
  updatedBy: string;
};

/** How the owner of a domain reads: its path, or why there is none to show. */
export function ownerLabel(d: Pick<DomainView, 'owner' | 'ownerHidden'>): string {
  return d.owner ?? (d.ownerHidden ? 'a node you cannot see' : 'no owner (superusers only)');
}

/** `GET /nodes/{path}/nginx`. */
export type NginxServiceView = NginxServiceSettings & { path: string; effectiveUpstream: string; version: number; updatedAt: string };

/** `GET /nginx/clusters/{path}`. */
export interface NginxClusterView extends PublishStatus {
  path: string;
  domains: string[];
  listenAddress?: string;
  logDir?: string;
  defaultServers: boolean;
  version: number;
  updatedAt: string;
}

export const BALANCE_METHODS = [
  { value: 'wrr', label: 'Weighted round robin', hint: "nginx's default: each server in proportion to its weight" },
  { value: 'least_conn', label: 'Least connections', hint: 'the server with the fewest active connections (weighted)' },
  { value: 'ip_hash', label: 'IP hash', hint: 'a client address always reaches the same server' },
  { value: 'hash', label: 'Hash of a key', hint: 'hash $key [consistent]: the same key reaches the same server' },
] as const;

type AttributeKind = 'int' | 'duration' | 'seconds' | 'size' | 'bool' | 'conditions' | 'headers';

/** One allow-listed attribute (nginxAttributesSchema in core) as the form shows it. */
export interface AttributeSpec {
  name: string;
  kind: AttributeKind;
  hint: string;
  placeholder?: string;
  min?: number;
  max?: number;
}

/** Every attribute the server accepts, grouped as an operator thinks of them. */
export const ATTRIBUTE_GROUPS: readonly { title: string; items: readonly AttributeSpec[] }[] = [
  {
    title: 'Upstream',
    items: [
      { name: 'keepalive', kind: 'int', min: 1, max: 10000, placeholder: '32', hint: 'Idle keepalive connections to the servers cached per worker' },
      { name: 'keepalive_requests', kind: 'int', min: 1, max: 1_000_000, placeholder: '1000', hint: 'Requests served over one keepalive connection' },
      { name: 'keepalive_timeout', kind: 'duration', placeholder: '60s', hint: 'How long an idle keepalive connection stays open' },
      { name: 'max_fails', kind: 'int', min: 0, max: 1000, placeholder: '1', hint: 'Failed attempts within fail_timeout before a server is taken out; 0 disables' },
      { name: 'fail_timeout', kind: 'seconds', placeholder: '10s', hint: 'The window for max_fails, and how long a failed server stays out' },
      { name: 'max_conns', kind: 'int', min: 0, max: 1_000_000, placeholder: '0', hint: 'Connections to one server at once; 0 is unlimited' },
    ],
  },
  {
    title: 'Proxying',
    items: [
      { name: 'proxy_connect_timeout', kind: 'duration', placeholder: '60s', hint: 'Time to establish a connection to a server' },
      { name: 'proxy_read_timeout', kind: 'duration', placeholder: '60s', hint: 'Time between two reads from a server' },
      { name: 'proxy_send_timeout', kind: 'duration', placeholder: '60s', hint: 'Time between two writes to a server' },
      { name: 'proxy_next_upstream', kind: 'conditions', hint: 'When a request is passed on to the next server' },
      { name: 'proxy_next_upstream_tries', kind: 'int', min: 0, max: 100, placeholder: '0', hint: 'Servers tried for one request; 0 is no limit' },
      { name: 'proxy_next_upstream_timeout', kind: 'duration', placeholder: '0', hint: 'Time allowed for passing a request on; 0 is no limit' },
      { name: 'proxy_buffering', kind: 'bool', hint: 'Buffer responses from the servers' },
      { name: 'proxy_request_buffering', kind: 'bool', hint: 'Read the whole request body before sending it on' },
      { name: 'client_max_body_size', kind: 'size', placeholder: '1m', hint: 'Largest request body accepted' },
    ],
  },
  {
    title: 'Headers',
    items: [
      { name: 'proxy_set_header', kind: 'headers', hint: 'Headers sent to the servers; one named like a default (Host, X-Real-IP…) replaces it' },
      { name: 'add_header', kind: 'headers', hint: 'Headers added to responses to the client' },
    ],
  },
];

/** `proxy_next_upstream` conditions (NEXT_UPSTREAM_CONDITIONS in core). */
export const NEXT_UPSTREAM = ['error', 'timeout', 'invalid_header', 'http_500', 'http_502', 'http_503', 'http_504', 'http_403', 'http_404', 'http_429', 'non_idempotent', 'off'] as const;

/** What the service form holds: the API's field names, so server issues land on their fields. */
export interface ServiceDraft {
  domainUris: { domain?: string; uri?: string }[];
  upstream?: string;
  port?: number | null;
  balance: { method: 'wrr' | 'least_conn' | 'ip_hash' | 'hash'; key?: string; consistent?: boolean };
  /** Booleans as 'on' / 'off' / undefined (nginx's default); headers as name/value rows. */
  attributes: Record<string, unknown>;
}

/** The form's starting point: the stored settings, or a new service with one empty row. */
export function serviceDraftOf(s: NginxServiceSettings | null, port: number | undefined): ServiceDraft {
  if (!s) return { domainUris: [{ uri: '/' }], port: port ?? null, balance: { method: 'wrr', consistent: true }, attributes: {} };
  const attributes: Record<string, unknown> = { ...s.attributes };
  for (const [k, v] of Object.entries(s.attributes)) if (typeof v === 'boolean') attributes[k] = v ? 'on' : 'off';
  const balance = s.balance.method === 'hash' ? { method: 'hash' as const, key: s.balance.key, consistent: s.balance.consistent } : { method: s.balance.method, consistent: true };
  return { domainUris: s.domainUris.map((d) => ({ ...d })), ...(s.upstream ? { upstream: s.upstream } : {}), port: s.port, balance, attributes };
}

const blank = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '') || (Array.isArray(v) && v.length === 0);

/** The attributes a draft sets, as the API takes them: blanks and empty header rows dropped. */
function attributesBodyOf(draft: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(draft ?? {})) {
    if (blank(v)) continue;
    if (v === 'on' || v === 'off') out[k] = v === 'on';
    else if (Array.isArray(v) && k !== 'proxy_next_upstream') {
      const rows = (v as { name?: string; value?: string }[]).filter((h) => !blank(h?.name) || !blank(h?.value));
      if (rows.length > 0) out[k] = rows.map((h) => ({ name: (h.name ?? '').trim(), value: h.value ?? '' }));
    } else out[k] = typeof v === 'string' ? v.trim() : v;
  }
  return out;
}

/** The body of `PUT /nodes/{path}/nginx`; the server validates every value. */
export function serviceBodyOf(d: ServiceDraft): NginxServiceInput {
  const b = d.balance;
  const balance = b.method === 'hash' ? { method: 'hash' as const, key: (b.key ?? '').trim(), consistent: b.consistent ?? true } : { method: b.method };
  return {
    domainUris: (d.domainUris ?? []).map((du) => ({ domain: du.domain ?? '', uri: (du.uri ?? '').trim() })),
    ...(blank(d.upstream) ? {} : { upstream: (d.upstream ?? '').trim() }),
    port: d.port ?? 0,
    balance,
    attributes: attributesBodyOf(d.attributes) as NginxServiceInput['attributes'],
  };
}

/** How many attributes a draft sets, for the collapsed section's title. */
export function attributesSet(attributes: Record<string, unknown> | undefined): number {
  return Object.keys(attributesBodyOf(attributes)).length;
}

/** What the domain form holds. */
export interface DomainDraft {
  domain: string;
  ports: { port?: number | null; ssl?: boolean }[];
  accessLogPath?: string;
  errorLogPath?: string;
  sslCertPath?: string;
  sslCertKeyPath?: string;
  /** The owner node's path; a new domain needs one unless a superuser creates it. */
  owner?: string;
}

export const NEW_DOMAIN: DomainDraft = { domain: '', ports: [{ port: 80, ssl: false }] };

/** The domain form's starting point from a stored domain. */
export function domainDraftOf(d: DomainView): DomainDraft {
  const { clusters: _c, version: _v, updatedAt: _u, updatedBy: _b, owner, ownerHidden: _h, delegations: _d, hiddenDelegations: _n, ...rest } = d;
  return { ...rest, ...(owner ? { owner } : {}), ports: d.ports.map((p) => ({ ...p })) };
}

/** The body of `PUT /domains/{domain}`: cert paths only when a port uses ssl, blank log paths dropped. */
export function domainBodyOf(d: DomainDraft): Omit<NginxDomainInput, 'domain'> & { owner?: string } {
  const ports = (d.ports ?? []).map((p) => ({ port: p.port ?? 0, ssl: Boolean(p.ssl) }));
  const ssl = ports.some((p) => p.ssl);
  const opt = (k: 'accessLogPath' | 'errorLogPath' | 'sslCertPath' | 'sslCertKeyPath') => (blank(d[k]) ? {} : { [k]: (d[k] ?? '').trim() });
  const owner = blank(d.owner) ? {} : { owner: (d.owner ?? '').trim() };
  return { ports, ...opt('accessLogPath'), ...opt('errorLogPath'), ...(ssl ? { ...opt('sslCertPath'), ...opt('sslCertKeyPath') } : {}), ...owner };
}
