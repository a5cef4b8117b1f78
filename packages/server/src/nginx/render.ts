/**
 * Nginx chunk renderers. Each is a pure function of its own input, so a caller can cache the
 * chunks and, when one instance changes, re-render only that upstream before recomposing.
 */
import { DURATION_RE, HEADER_NAME_RE, MAX_WEIGHT, NEXT_UPSTREAM_CONDITIONS, SECONDS_RE, SIZE_RE } from '@canopy/core';
import type { DomainRoute, NginxAttributes, NginxDomain, NginxRenderOptions, NginxService, UpstreamServer } from './model.ts';
import {
  addressToken,
  byCodeUnit,
  intToken,
  listenAddressToken,
  portToken,
  quoteLiteral,
  quoteValue,
  refuse,
  serverNameToken,
  token,
  upstreamToken,
} from './escape.ts';

const NEXT_UPSTREAM = new RegExp(`^(?:${NEXT_UPSTREAM_CONDITIONS.join('|')})$`);

/** Name of the JSON access-log format every generated server block writes. */
export const LOG_FORMAT = 'canopy_json';

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * The http-level prelude: server-name hash sizes fitted to the domains (at nginx's defaults a
 * name over ~50 characters is refused and a few thousand names only warn) and the JSON access-log
 * format. Upstream fields are strings because nginx writes `-` or a comma list when a request
 * tried several servers. The including nginx.conf must not set the two hash sizes itself.
 */
export function renderHttpPrelude(domains: readonly { domain: string }[]): string {
  let longest = 0;
  for (const d of domains) longest = Math.max(longest, d.domain.length);
  // An entry is a pointer, the name and two bytes, pointer-aligned; a bucket ends with a null
  // pointer. Room for four of the longest entries per bucket and a table twice the name count
  // let nginx build the hash without warnings (measured up to 20,000 names).
  const entry = Math.ceil((longest + 10) / 8) * 8;
  const bucket = Math.max(128, nextPow2(4 * entry + 8));
  const maxSize = Math.max(1024, nextPow2(domains.length * 2));
  const fields = [
    '"time":"$time_iso8601"', '"remote_addr":"$remote_addr"', '"host":"$host"', '"server_port":"$server_port"',
    '"method":"$request_method"', '"uri":"$uri"', '"status":$status', '"request_time":$request_time',
    '"bytes_sent":$bytes_sent', '"upstream":"$proxy_host"', '"upstream_addr":"$upstream_addr"',
    '"upstream_status":"$upstream_status"', '"upstream_response_time":"$upstream_response_time"',
    '"request_id":"$request_id"',
  ];
  return [
    `server_names_hash_bucket_size ${bucket};\n`,
    `server_names_hash_max_size ${maxSize};\n`,
    `log_format ${LOG_FORMAT} escape=json '{${fields.join(',')}}';\n`,
  ].join('');
}

function serverParams(a: NginxAttributes): string {
  let p = '';
  if (a.max_fails !== undefined) p += ` max_fails=${intToken(a.max_fails, 0, 1000, 'attributes.max_fails')}`;
  if (a.fail_timeout !== undefined) p += ` fail_timeout=${token(a.fail_timeout, SECONDS_RE, 'attributes.fail_timeout')}`;
  if (a.max_conns !== undefined) p += ` max_conns=${intToken(a.max_conns, 0, 1_000_000, 'attributes.max_conns')}`;
  return p;
}

function byAddress(a: UpstreamServer, b: UpstreamServer): number {
  return byCodeUnit(a.address, b.address) || (a.port ?? 0) - (b.port ?? 0);
}

/**
 * One `upstream` block. Draining and down instances stay listed as `down` (nginx refuses
 * `weight=0`, and keeping them preserves ip_hash/hash placement). A service with no instance gets
 * one `down` placeholder: nginx refuses an empty upstream but accepts an all-down one and answers
 * 502 for it.
 */
export function renderUpstream(service: NginxService): string {
  const name = upstreamToken(service.upstream, 'upstream');
  const a = service.attributes;
  const out = [`upstream ${name} {\n`];
  const b = service.balance;
  if (b.method === 'least_conn' || b.method === 'ip_hash') out.push(`    ${b.method};\n`);
  if (b.method === 'hash') out.push(`    hash ${quoteValue(b.key, 'balance.key')}${b.consistent ? ' consistent' : ''};\n`);
  const params = serverParams(a);
  const servers = [...service.servers].sort(byAddress);
  servers.forEach((s, i) => {
    const addr = addressToken(s.address, s.port ?? service.port, `servers.${i}.address`);
    const weight = intToken(s.weight, 1, MAX_WEIGHT, `servers.${i}.weight`);
    out.push(`    server ${addr} weight=${weight}${params}${s.status === 'up' ? '' : ' down'};\n`);
  });
  if (servers.length === 0) out.push('    server 127.0.0.1:1 down;  # no instances: requests answer 502\n');
  if (a.keepalive !== undefined) out.push(`    keepalive ${intToken(a.keepalive, 1, 10000, 'attributes.keepalive')};\n`);
  if (a.keepalive_requests !== undefined) {
    out.push(`    keepalive_requests ${intToken(a.keepalive_requests, 1, 1_000_000, 'attributes.keepalive_requests')};\n`);
  }
  if (a.keepalive_timeout !== undefined) out.push(`    keepalive_timeout ${token(a.keepalive_timeout, DURATION_RE, 'attributes.keepalive_timeout')};\n`);
  out.push('}\n');
  return out.join('');
}

const DEFAULT_PROXY_HEADERS: readonly [string, string][] = [
  ['Host', '$host'],
  ['X-Real-IP', '$remote_addr'],
  ['X-Forwarded-For', '$proxy_add_x_forwarded_for'],
  ['X-Forwarded-Proto', '$scheme'],
];

function headerName(name: string, field: string): string {
  return quoteLiteral(token(name, HEADER_NAME_RE, field), field);
}

/** The body shared by every location of a service: proxying and its location-level attributes. */
export function renderLocationBody(service: NginxService): string {
  const a = service.attributes;
  // HTTP/1.1 with an empty Connection header lets upstream `keepalive` reuse connections.
  const out = [
    `        proxy_pass http://${upstreamToken(service.upstream, 'upstream')};\n`,
    '        proxy_http_version 1.1;\n',
    '        proxy_set_header Connection "";\n',
  ];
  const custom = a.proxy_set_header ?? [];
  const overridden = new Set(custom.map((h) => h.name.toLowerCase()));
  for (const [name, value] of DEFAULT_PROXY_HEADERS) {
    if (!overridden.has(name.toLowerCase())) out.push(`        proxy_set_header ${name} ${value};\n`);
  }
  custom.forEach((h, i) => {
    const field = `attributes.proxy_set_header.${i}`;
    if (h.name.toLowerCase() === 'connection') refuse(`${field}.name`, 'the Connection header is managed by Canopy');
    out.push(`        proxy_set_header ${headerName(h.name, `${field}.name`)} ${quoteValue(h.value, `${field}.value`)};\n`);
  });
  for (const key of ['proxy_connect_timeout', 'proxy_read_timeout', 'proxy_send_timeout', 'proxy_next_upstream_timeout'] as const) {
    const v = a[key];
    if (v !== undefined) out.push(`        ${key} ${token(v, DURATION_RE, `attributes.${key}`)};\n`);
  }
  if (a.proxy_next_upstream !== undefined) {
    const conds = a.proxy_next_upstream.map((c, i) => token(c, NEXT_UPSTREAM, `attributes.proxy_next_upstream.${i}`));
    out.push(`        proxy_next_upstream ${conds.join(' ')};\n`);
  }
  if (a.proxy_next_upstream_tries !== undefined) {
    out.push(`        proxy_next_upstream_tries ${intToken(a.proxy_next_upstream_tries, 0, 100, 'attributes.proxy_next_upstream_tries')};\n`);
  }
  if (a.proxy_buffering !== undefined) out.push(`        proxy_buffering ${a.proxy_buffering ? 'on' : 'off'};\n`);
  if (a.proxy_request_buffering !== undefined) out.push(`        proxy_request_buffering ${a.proxy_request_buffering ? 'on' : 'off'};\n`);
  if (a.client_max_body_size !== undefined) {
    out.push(`        client_max_body_size ${token(a.client_max_body_size, SIZE_RE, 'attributes.client_max_body_size')};\n`);
  }
  (a.add_header ?? []).forEach((h, i) => {
    const field = `attributes.add_header.${i}`;
    out.push(`        add_header ${headerName(h.name, `${field}.name`)} ${quoteValue(h.value, `${field}.value`)};\n`);
  });
  return out.join('');
}

/** One prefix `location` proxying to its service. */
export function renderLocation(route: DomainRoute, body = renderLocationBody(route.service)): string {
  return `    location ${quoteLiteral(route.uri, 'uri')} {\n${body}    }\n`;
}

/** Longest URI first, then code-unit order: nginx picks the longest prefix whatever the order. */
export function byUriLength(a: DomainRoute, b: DomainRoute): number {
  return b.uri.length - a.uri.length || byCodeUnit(a.uri, b.uri);
}

function logPath(file: string, logDir: string | undefined, field: string): string {
  if (file.includes('/') || file.startsWith('.') || file.length > 255) refuse(field, `'${file}' must be a file name (at most 255 bytes) in the log directory`);
  return quoteLiteral(logDir === undefined ? file : `${logDir.replace(/\/+$/, '')}/${file}`, field);
}

function listen(port: number, ssl: boolean, opts: NginxRenderOptions, extra = ''): string {
  const p = portToken(port, 'ports.port');
  const addr = opts.listenAddress === undefined ? p : `${listenAddressToken(opts.listenAddress)}:${p}`;
  return `    listen ${addr}${ssl ? ' ssl' : ''}${extra};\n`;
}

/**
 * The server blocks of one domain, one per port, each holding every location routed to the
 * domain. Without a `/` route, `/` answers 404 instead of nginx's static default root.
 */
export function renderDomainServers(domain: NginxDomain, routes: readonly DomainRoute[], opts: NginxRenderOptions = {}): string {
  const name = serverNameToken(domain.domain, 'domain');
  const sorted = [...routes].sort(byUriLength);
  const bodies = new Map<NginxService, string>();
  const locations = sorted.map((r) => {
    let body = bodies.get(r.service);
    if (body === undefined) bodies.set(r.service, (body = renderLocationBody(r.service)));
    return renderLocation(r, body);
  });
  if (!sorted.some((r) => r.uri === '/')) locations.push('    location / {\n        return 404;\n    }\n');
  const logs =
    `    access_log ${logPath(domain.accessLogPath ?? `${domain.domain}_access.log`, opts.logDir, 'accessLogPath')} ${LOG_FORMAT};\n` +
    `    error_log ${logPath(domain.errorLogPath ?? `${domain.domain}_error.log`, opts.logDir, 'errorLogPath')};\n`;
  const body = locations.join('');
  const ports = [...domain.ports].sort((a, b) => a.port - b.port);
  const out: string[] = [];
  for (const p of ports) {
    out.push('server {\n', listen(p.port, p.ssl, opts), `    server_name ${name};\n`, logs);
    if (p.ssl) {
      if (domain.sslCertPath === undefined || domain.sslCertKeyPath === undefined) {
        refuse('sslCertPath', `${domain.domain}:${p.port} uses ssl but the domain has no certificate and key`);
      }
      out.push(`    ssl_certificate ${quoteLiteral(domain.sslCertPath, 'sslCertPath')};\n`);
      out.push(`    ssl_certificate_key ${quoteLiteral(domain.sslCertKeyPath, 'sslCertKeyPath')};\n`);
    }
    out.push(body, '}\n');
  }
  return out.join('');
}

/** Catch-all servers, one per port: unknown hosts get 404, or a refused TLS handshake on ssl ports. */
export function renderDefaultServers(ports: readonly { port: number; ssl: boolean }[], opts: NginxRenderOptions = {}): string {
  const out: string[] = [];
  for (const p of [...ports].sort((a, b) => a.port - b.port)) {
    out.push('server {\n', listen(p.port, p.ssl, opts, ' default_server'));
    out.push(p.ssl ? '    ssl_reject_handshake on;\n' : '    return 404;\n', '}\n');
  }
  return out.join('');
}
