import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  DURATION_RE,
  HASH_KEY_RE,
  HEADER_VALUE_RE,
  LOCATION_URI_RE,
  LOG_FILE_RE,
  NGINX_VARIABLES,
  SECONDS_RE,
  SIZE_RE,
  UPSTREAM_NAME_RE,
  locationUriSchema,
  nginxDomainSchema,
  nginxServiceSchema,
  type NginxServiceSettings,
} from '@canopy/core';
import type { NginxClusterInput, NginxDomain, NginxService, UpstreamServer } from './model.ts';
import { renderNginxConfig } from './compose.ts';
import { checkNginxConfig, createSelfSignedCert, findProgram } from './nginx-binary.ts';

const nginx = findProgram('nginx');
const openssl = findProgram('openssl');
const missing = nginx === null ? 'nginx not installed: apt-get install nginx-light' : openssl === null ? 'openssl not installed' : '';
if (missing !== '') console.error(`\n!!! SKIPPING nginx -t tests: ${missing}\n`);

let dir = '';
let cert = { certPath: '', keyPath: '' };

before(async () => {
  if (missing !== '') return;
  dir = await mkdtemp(join(tmpdir(), 'canopy-nginx-cert-'));
  cert = await createSelfSignedCert(dir, ['canopy.test']);
});
after(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

/** A service as the persistence layer will build it: validated settings plus discovery instances. */
function toService(settings: NginxServiceSettings, path: string, servers: UpstreamServer[]): NginxService {
  return { ...settings, upstream: settings.upstream ?? path.replaceAll('.', '_'), servers };
}

const label = fc.oneof(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/), fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/));
const domainName = fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.')).filter((d) => d.length <= 244);
const duration = fc.stringMatching(DURATION_RE);
// fast-check cannot generate from the lookahead in the variable grammar: build values from parts.
const variable = fc.oneof(fc.constantFrom(...NGINX_VARIABLES), fc.stringMatching(/^(?:http|cookie|arg)_[a-z0-9_]{1,12}$/)).map((v) => `$${v}`);
const literal = fc.stringMatching(/^[ !#%&'()*+,\-./0-9:<=>?@A-Z\[\]^_`a-z|~]{0,12}$/);
const headerValue = fc.array(fc.oneof(literal, variable), { maxLength: 4 }).map((p) => p.join('')).filter((v) => HEADER_VALUE_RE.test(v));
const hashKey = fc.array(variable, { minLength: 1, maxLength: 3 }).map((p) => p.join('')).filter((k) => HASH_KEY_RE.test(k));
const header = fc.record({ name: fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/), value: headerValue });
const attributes = fc.record(
  {
    keepalive: fc.integer({ min: 1, max: 10000 }),
    keepalive_requests: fc.integer({ min: 1, max: 1_000_000 }),
    keepalive_timeout: duration,
    max_fails: fc.integer({ min: 0, max: 1000 }),
    fail_timeout: fc.stringMatching(SECONDS_RE),
    max_conns: fc.integer({ min: 0, max: 1_000_000 }),
    proxy_connect_timeout: duration,
    proxy_read_timeout: duration,
    proxy_next_upstream: fc.uniqueArray(fc.constantFrom('error', 'timeout', 'invalid_header', 'http_502', 'http_429', 'non_idempotent'), { minLength: 1 }),
    proxy_next_upstream_tries: fc.integer({ min: 0, max: 100 }),
    proxy_buffering: fc.boolean(),
    client_max_body_size: fc.stringMatching(SIZE_RE),
    proxy_set_header: fc.uniqueArray(header, { maxLength: 3, selector: (h) => h.name.toLowerCase() }).map((hs) => hs.filter((h) => h.name.toLowerCase() !== 'connection')),
    add_header: fc.uniqueArray(header, { maxLength: 3, selector: (h) => h.name.toLowerCase() }),
  },
  { requiredKeys: [] },
);
const uri = fc.stringMatching(LOCATION_URI_RE).filter((u) => locationUriSchema.safeParse(u).success);
const balance = fc.oneof(
  fc.constant({ method: 'wrr' }),
  fc.constant({ method: 'least_conn' }),
  fc.constant({ method: 'ip_hash' }),
  fc.record({ method: fc.constant('hash'), key: hashKey, consistent: fc.boolean() }),
);
const server = fc.record({
  address: fc.oneof(fc.ipV4(), fc.ipV6()),
  weight: fc.integer({ min: 1, max: 1000 }),
  status: fc.constantFrom('up', 'draining', 'down' as const),
});

/** Schema-valid clusters: 1–3 domains, 1–4 services whose URIs point at those domains. */
const clusterArb = fc
  .record({
    domains: fc.uniqueArray(
      fc.record({
        domain: domainName,
        ports: fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { minLength: 1, maxLength: 3 }),
        logs: fc.option(fc.tuple(fc.stringMatching(LOG_FILE_RE), fc.stringMatching(LOG_FILE_RE)), { nil: undefined }),
      }),
      { minLength: 1, maxLength: 3, selector: (d) => d.domain },
    ),
    services: fc.uniqueArray(
      fc.record({
        upstream: fc.option(fc.stringMatching(UPSTREAM_NAME_RE), { nil: undefined }),
        uris: fc.array(fc.tuple(fc.nat(), uri), { minLength: 1, maxLength: 4 }),
        port: fc.integer({ min: 1, max: 65535 }),
        balance,
        attributes,
        servers: fc.array(server, { maxLength: 4 }),
      }),
      { minLength: 1, maxLength: 4, selector: (s) => s.upstream },
    ),
  })
  .map(({ domains, services }): NginxClusterInput => {
    // One port is ssl or plain for the whole cluster, so decide ssl by the port.
    const ds: NginxDomain[] = domains.map((d) => {
      const ports = d.ports.map((port) => ({ port, ssl: port % 3 === 0 }));
      const ssl = ports.some((p) => p.ssl) ? { sslCertPath: cert.certPath, sslCertKeyPath: cert.keyPath } : {};
      const logs = d.logs === undefined ? {} : { accessLogPath: d.logs[0], errorLogPath: d.logs[1] };
      return nginxDomainSchema.parse({ domain: d.domain, ports, ...ssl, ...logs });
    });
    const claimed = new Set<string>();
    const ss = services.map((s, i) => {
      const domainUris = s.uris
        .map(([n, uri]) => ({ domain: (ds[n % ds.length] as NginxDomain).domain, uri }))
        .filter((du) => !claimed.has(`${du.domain} ${du.uri}`) && claimed.add(`${du.domain} ${du.uri}`));
      const settings = nginxServiceSchema.parse({
        domainUris: domainUris.length > 0 ? domainUris : [{ domain: 'unused.invalid', uri: '/' }],
        ...(s.upstream === undefined ? {} : { upstream: s.upstream }),
        port: s.port,
        balance: s.balance,
        attributes: s.attributes,
      });
      return toService(settings, `corp.svc${i}`, s.servers);
    });
    return { domains: ds, services: ss };
  });

describe('nginx -t on generated configs', { skip: missing !== '' ? missing : false }, () => {
  test('nginx refuses an upstream without servers, which is why an empty service gets a down placeholder', async () => {
    const r = await checkNginxConfig([{ path: 'x.conf', content: 'upstream empty {\n}\n' }]);
    assert.equal(r.ok, false);
    assert.match(r.output, /no servers are inside upstream/);
  });

  test('a config using every balancing method, attribute and an ssl port passes nginx -t', async () => {
    const settings = (balance: unknown, attrs: unknown = {}) =>
      nginxServiceSchema.parse({ domainUris: [{ domain: 'a.example.com', uri: '/' }], port: 8080, balance, attributes: attrs });
    const all = {
      keepalive: 32, keepalive_requests: 1000, keepalive_timeout: '60s', max_fails: 3, fail_timeout: '10s', max_conns: 100,
      proxy_connect_timeout: '500ms', proxy_read_timeout: '30s', proxy_send_timeout: '30s',
      proxy_next_upstream: ['error', 'timeout', 'http_502'], proxy_next_upstream_tries: 2, proxy_next_upstream_timeout: '5s',
      proxy_buffering: false, proxy_request_buffering: false, client_max_body_size: '10m',
      proxy_set_header: [{ name: 'Host', value: 'backend.internal' }, { name: 'X-User', value: '$http_x_user;ignored' }],
      add_header: [{ name: 'X-Served-By', value: 'canopy $hostname' }],
    };
    const servers: UpstreamServer[] = [{ address: '10.0.0.1', weight: 5, status: 'up' }, { address: 'fd00::2', weight: 1, status: 'draining' }];
    const input: NginxClusterInput = {
      domains: [nginxDomainSchema.parse({ domain: 'a.example.com', ports: [{ port: 80 }, { port: 443, ssl: true }], sslCertPath: cert.certPath, sslCertKeyPath: cert.keyPath })],
      services: [
        toService(settings({ method: 'wrr' }, { ...all, proxy_set_header: [{ name: 'Host', value: 'x' }] }), 'corp.a', servers),
        { ...toService(settings({ method: 'ip_hash' }), 'corp.b', servers), domainUris: [{ domain: 'a.example.com', uri: '/b' }] },
        { ...toService(settings({ method: 'least_conn' }), 'corp.c', []), domainUris: [{ domain: 'a.example.com', uri: '/c' }] },
        { ...toService(settings({ method: 'hash', key: '$host$request_uri' }), 'corp.d', servers), domainUris: [{ domain: 'a.example.com', uri: '/d' }] },
      ],
    };
    assert.equal(input.services[0]?.attributes.proxy_set_header?.[0]?.value, 'x');
    const r = await checkNginxConfig(renderNginxConfig(input).files);
    assert.ok(r.ok, r.output);
  });

  // CANOPY_FUZZ_RUNS raises the count for a deliberate long fuzz session.
  const numRuns = Number(process.env['CANOPY_FUZZ_RUNS'] ?? 40);
  test(`fuzz: ${numRuns} schema-valid random clusters all pass nginx -t`, async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(clusterArb, async (input) => {
        runs++;
        const { files } = renderNginxConfig(input);
        const r = await checkNginxConfig(files);
        assert.ok(r.ok, `${r.output}\n${files.map((f) => f.content).join('')}`);
      }),
      { numRuns },
    );
    assert.equal(runs, numRuns);
  });
});
