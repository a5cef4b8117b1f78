import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '@canopy/core';
import type { NginxClusterInput, NginxDomain, NginxService } from './model.ts';
import { composeNginxFiles, renderNginxChunks, renderNginxConfig } from './compose.ts';
import { renderDomainServers, renderUpstream } from './render.ts';

function service(upstream: string, uris: [string, string][], over: Partial<NginxService> = {}): NginxService {
  return {
    upstream,
    port: 8080,
    domainUris: uris.map(([domain, uri]) => ({ domain, uri })),
    balance: { method: 'wrr' },
    attributes: {},
    servers: [
      { address: '10.0.0.2', weight: 2, status: 'up' },
      { address: '10.0.0.1', weight: 1, status: 'up' },
    ],
    ...over,
  };
}

const plain = (domain: string, port = 80): NginxDomain => ({ domain, ports: [{ port, ssl: false }] });

function cluster(): NginxClusterInput {
  return {
    domains: [
      plain('b.example.com'),
      { domain: 'a.example.com', ports: [{ port: 443, ssl: true }, { port: 80, ssl: false }], sslCertPath: '/etc/ssl/a.pem', sslCertKeyPath: '/etc/ssl/a.key' },
    ],
    services: [
      service('corp_pay_api', [['a.example.com', '/api'], ['b.example.com', '/']]),
      service('corp_pay_web', [['a.example.com', '/'], ['a.example.com', '/api/v2/long']], { balance: { method: 'ip_hash' } }),
      service('corp_other', [['elsewhere.example.com', '/']]),
    ],
  };
}

function text(input: NginxClusterInput): string {
  return renderNginxConfig(input).files.map((f) => `## ${f.path}\n${f.content}`).join('');
}

describe('nginx renderer', () => {
  test('the same input in any order renders byte-identical files', () => {
    const a = cluster();
    const b: NginxClusterInput = {
      domains: [...a.domains].reverse(),
      services: [...a.services].reverse().map((s) => ({ ...s, servers: [...s.servers].reverse(), domainUris: [...s.domainUris].reverse() })),
    };
    assert.equal(text(a), text(b));
  });

  test('locations are ordered longest URI first, and / is not duplicated when a service owns it', () => {
    const out = text(cluster());
    const a = out.slice(out.indexOf('server_name "a.example.com"'));
    const order = [...a.slice(0, a.indexOf('\n}\n')).matchAll(/location (\S+) \{/g)].map((m) => m[1]);
    assert.deepEqual(order, ['"/api/v2/long"', '"/api"', '"/"']);
  });

  test('a domain without a / route answers 404 there instead of serving nginx static files', () => {
    const out = renderDomainServers(plain('x.example.com'), [{ uri: '/api', service: service('s', []) }]);
    assert.match(out, /location \/ \{\n {8}return 404;\n {4}\}/);
  });

  test('ssl ports carry the certificate, plain ports do not, one server block per port', () => {
    const out = text(cluster());
    const blocks = out.split('server {\n').filter((b) => b.includes('server_name "a.example.com"'));
    assert.equal(blocks.length, 2);
    const ssl = blocks.find((b) => b.includes('listen 443 ssl;')) ?? '';
    const http = blocks.find((b) => b.includes('listen 80;')) ?? '';
    assert.match(ssl, /ssl_certificate "\/etc\/ssl\/a\.pem";\n {4}ssl_certificate_key "\/etc\/ssl\/a\.key";/);
    assert.doesNotMatch(http, /ssl_certificate/);
  });

  test('services routed only from other clusters get no upstream', () => {
    assert.doesNotMatch(text(cluster()), /corp_other/);
  });

  test('draining and down instances stay listed as down with their weight; nginx never sees weight=0', () => {
    const out = renderUpstream(service('s', [], {
      servers: [
        { address: '10.0.0.3', weight: 4, status: 'draining' },
        { address: '10.0.0.1', weight: 2, status: 'up' },
        { address: 'fd00::1', port: 9000, weight: 1, status: 'down' },
      ],
    }));
    assert.match(out, /server 10\.0\.0\.1:8080 weight=2;\n {4}server 10\.0\.0\.3:8080 weight=4 down;\n {4}server \[fd00::1\]:9000 weight=1 down;/);
    assert.doesNotMatch(out, /weight=0/);
  });

  test('a service without instances keeps a valid upstream with a down placeholder', () => {
    const out = renderUpstream(service('s', [], { servers: [], balance: { method: 'hash', key: '$request_uri', consistent: true } }));
    assert.match(out, /hash "\$request_uri" consistent;\n {4}server 127\.0\.0\.1:1 down;/);
  });

  test('balancing method comes before servers and keepalive after them, as nginx requires', () => {
    const out = renderUpstream(service('s', [], { balance: { method: 'least_conn' }, attributes: { keepalive: 8, max_fails: 3, fail_timeout: '5s' } }));
    assert.match(out, /^upstream s \{\n {4}least_conn;\n {4}server 10\.0\.0\.1:8080 weight=1 max_fails=3 fail_timeout=5s;\n.*\n {4}keepalive 8;\n\}\n$/);
  });

  test('a custom Host header replaces the default instead of sending two', () => {
    const out = renderDomainServers(plain('x.example.com'), [
      { uri: '/', service: service('s', [], { attributes: { proxy_set_header: [{ name: 'Host', value: 'backend.internal' }] } }) },
    ]);
    assert.equal(out.match(/proxy_set_header (?:"Host"|Host) /g)?.length, 1);
    assert.match(out, /proxy_set_header "Host" "backend\.internal";/);
  });

  test('quotes and backslashes in values are escaped; control characters and stray $ are refused', () => {
    const ok = renderDomainServers(plain('x.example.com'), [
      { uri: '/', service: service('s', [], { attributes: { add_header: [{ name: 'X-A', value: 'say "hi" \\o/ $host' }] } }) },
    ]);
    assert.match(ok, /add_header "X-A" "say \\"hi\\" \\\\o\/ \$host";/);
    for (const value of ['a\nb', 'a$', 'a${host}', 'a$Host']) {
      assert.throws(
        () => renderDomainServers(plain('x.example.com'), [{ uri: '/', service: service('s', [], { attributes: { add_header: [{ name: 'X', value }] } }) }]),
        ValidationError,
        JSON.stringify(value),
      );
    }
  });

  test('strings that would break out of the config are refused at render time too', () => {
    const bad: [string, () => unknown][] = [
      ['domain', () => renderDomainServers(plain('a.com; include /etc/passwd'), [])],
      ['uri newline', () => renderDomainServers(plain('a.com'), [{ uri: '/a\n}', service: service('s', []) }])],
      ['uri $', () => renderDomainServers(plain('a.com'), [{ uri: '/$x', service: service('s', []) }])],
      ['upstream', () => renderUpstream(service('x; include y', []))],
      ['server host name', () => renderUpstream(service('s', [], { servers: [{ address: 'evil.com;', weight: 1, status: 'up' }] }))],
      ['weight 0', () => renderUpstream(service('s', [], { servers: [{ address: '10.0.0.1', weight: 0, status: 'up' }] }))],
      ['log path', () => renderDomainServers({ ...plain('a.com'), accessLogPath: '../../etc/passwd' }, [])],
      ['duration', () => renderUpstream(service('s', [], { attributes: { fail_timeout: '1s; include x' } }))],
    ];
    for (const [name, fn] of bad) assert.throws(fn, ValidationError, name);
  });

  test('cluster-level conflicts are reported together', () => {
    const input: NginxClusterInput = {
      domains: [plain('a.com', 8443), { domain: 'b.com', ports: [{ port: 8443, ssl: true }] }],
      services: [service('s', [['a.com', '/x']]), service('s', [['a.com', '/x']])],
    };
    const err = (() => {
      try {
        renderNginxConfig(input);
      } catch (e) {
        return e;
      }
      return null;
    })();
    assert.ok(err instanceof ValidationError);
    const messages = err.issues.map((i) => i.message).join('\n');
    assert.match(messages, /upstream 's' is used by two services/);
    assert.match(messages, /port 8443 is plain for a\.com; one port cannot mix ssl and plain/);
    assert.match(messages, /b\.com has an ssl port but no certificate/);
    assert.match(messages, /a\.com\/x is claimed by upstreams 's' and 's'/);
  });

  test('a render error points at the offending field of the cluster input', () => {
    const input = cluster();
    const bad = { ...input, services: [input.services[0] as NginxService, service('corp_bad', [['b.example.com', '/bad']], { servers: [{ address: 'db.internal', weight: 1, status: 'up' }] })] };
    assert.throws(() => renderNginxConfig(bad), (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      assert.deepEqual(err.issues[0]?.path, ['services', 1, 'servers', 0, 'address']);
      return true;
    });
  });

  test('re-rendering one upstream into cached chunks equals a full render', () => {
    const input = cluster();
    const chunks = renderNginxChunks(input);
    const changed = { ...input.services[0] as NginxService, servers: [{ address: '10.0.0.9', weight: 1, status: 'up' as const }] };
    const upstreams = new Map(chunks.upstreams).set(changed.upstream, renderUpstream(changed));
    const incremental = composeNginxFiles({ ...chunks, upstreams });
    const full = renderNginxConfig({ ...input, services: [changed, ...input.services.slice(1)] });
    assert.deepEqual(incremental, full);
  });

  test('log file names land in the log directory and listen binds the given address', () => {
    const out = renderDomainServers(plain('a.com'), [], { logDir: '/var/log/canopy/', listenAddress: '127.0.0.1' });
    assert.match(out, /listen 127\.0\.0\.1:80;/);
    assert.match(out, /access_log "\/var\/log\/canopy\/a\.com_access\.log" canopy_json;/);
    assert.match(out, /error_log "\/var\/log\/canopy\/a\.com_error\.log";/);
  });

  test('catch-all servers answer unknown hosts on every port, or can be left out', () => {
    const out = text(cluster());
    assert.match(out, /listen 80 default_server;\n {4}return 404;/);
    assert.match(out, /listen 443 ssl default_server;\n {4}ssl_reject_handshake on;/);
    const none = renderNginxConfig(cluster(), { defaultServers: false }).files.map((f) => f.content).join('');
    assert.doesNotMatch(none, /default_server/);
  });
});
