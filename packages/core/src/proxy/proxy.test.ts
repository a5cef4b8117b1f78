import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  defaultUpstreamName,
  domainNameSchema,
  headerValueSchema,
  locationUriSchema,
  lvsServiceSchema,
  lvsVirtualServiceSchema,
  nginxAttributesSchema,
  nginxDomainSchema,
  nginxServiceSchema,
} from './index.ts';

const rejects = (schema: { safeParse(v: unknown): { success: boolean } }, v: unknown): boolean => !schema.safeParse(v).success;

describe('nginx input schemas', () => {
  test('refuses domains that would inject directives or are not lower-case names', () => {
    for (const d of ['a.com; include /etc/passwd', 'a.com\n', 'A.com', 'a..com', '-a.com', 'a.com}', '*.a.com', 'a com', '']) {
      assert.ok(rejects(domainNameSchema, d), JSON.stringify(d));
    }
    assert.equal(domainNameSchema.parse('pay.corp.example.com'), 'pay.corp.example.com');
  });

  test('refuses URIs with braces, semicolons, newlines, quotes, variables, or segments nginx normalises away', () => {
    for (const u of ['/a{', '/a}', '/a;b', '/a\nb', '/a"b', '/a b', '/$host', '/a%20b', '/a?b', '/a#b', 'a', '//a', '/a//b', '/./a', '/a/..', '/a/../b', '/a\\b']) {
      assert.ok(rejects(locationUriSchema, u), JSON.stringify(u));
    }
    for (const u of ['/', '/api', '/api/', '/api/v1.2/x-y_z~', "/a'b(c)*+,=:@!&"]) assert.equal(locationUriSchema.parse(u), u);
  });

  test('needs a certificate and key exactly when a port uses ssl', () => {
    const base = { domain: 'a.com', ports: [{ port: 443, ssl: true }] };
    assert.ok(rejects(nginxDomainSchema, base));
    assert.ok(nginxDomainSchema.safeParse({ ...base, sslCertPath: '/etc/ssl/a.pem', sslCertKeyPath: '/etc/ssl/a.key' }).success);
    assert.ok(rejects(nginxDomainSchema, { domain: 'a.com', ports: [{ port: 80 }], sslCertPath: '/etc/ssl/a.pem', sslCertKeyPath: '/etc/ssl/a.key' }));
    assert.deepEqual(nginxDomainSchema.parse({ domain: 'a.com', ports: [{ port: 80 }] }).ports, [{ port: 80, ssl: false }]);
    assert.ok(rejects(nginxDomainSchema, { domain: 'a.com', ports: [{ port: 80 }, { port: 80, ssl: true }] }));
  });

  test('log paths are file names in the log directory; certificate paths are absolute and clean', () => {
    for (const p of ['../x.log', '/etc/passwd', 'a/b.log', '.hidden', 'a$b.log', 'a b.log']) {
      assert.ok(rejects(nginxDomainSchema, { domain: 'a.com', ports: [{ port: 80 }], accessLogPath: p }), p);
    }
    for (const p of ['relative.pem', '/etc/../shadow', '/etc/./a', '/a//b', '/a/b/', '/a;b']) {
      assert.ok(rejects(nginxDomainSchema, { domain: 'a.com', ports: [{ port: 443, ssl: true }], sslCertPath: p, sslCertKeyPath: '/k.key' }), p);
    }
  });

  test('attributes outside the allow-list are refused', () => {
    assert.ok(rejects(nginxAttributesSchema, { root: '/' }));
    assert.ok(rejects(nginxAttributesSchema, { include: '/etc/passwd' }));
    assert.ok(rejects(nginxAttributesSchema, { proxy_read_timeout: '5s; include x' }));
    assert.ok(rejects(nginxAttributesSchema, { proxy_next_upstream: ['off', 'error'] }));
    assert.ok(rejects(nginxAttributesSchema, { proxy_set_header: [{ name: 'Connection', value: 'close' }] }));
    assert.ok(rejects(nginxAttributesSchema, { add_header: [{ name: 'X-A', value: '1' }, { name: 'x-a', value: '2' }] }));
    const ok = nginxAttributesSchema.parse({ keepalive: 16, max_fails: 2, fail_timeout: '10s', proxy_next_upstream: ['error', 'http_502'] });
    assert.equal(ok.keepalive, 16);
  });

  test('header values allow known variables only, not glued to a following name character', () => {
    for (const v of ['$host', 'x-$remote_addr-y', '$http_x_user', '$cookie_sid', '', 'a,b=c (d)']) assert.equal(headerValueSchema.parse(v), v);
    for (const v of ['$hostx', '$unknown', '${host}', '$', 'a;b', 'a"b', 'a\\b', 'a{b', 'a\nb', 'é']) {
      assert.ok(rejects(headerValueSchema, v), JSON.stringify(v));
    }
  });

  test('a service defaults to wrr with no attributes, and its upstream name derives from the path', () => {
    const s = nginxServiceSchema.parse({ domainUris: [{ domain: 'a.com', uri: '/pay' }], port: 8080 });
    assert.deepEqual(s.balance, { method: 'wrr' });
    assert.deepEqual(s.attributes, {});
    assert.equal(defaultUpstreamName('corp.pay.api'), 'corp_pay_api');
    const h = nginxServiceSchema.parse({ domainUris: [{ domain: 'a.com', uri: '/' }], port: 1, balance: { method: 'hash', key: '$remote_addr' } });
    assert.deepEqual(h.balance, { method: 'hash', key: '$remote_addr', consistent: true });
    assert.ok(rejects(nginxServiceSchema, { domainUris: [{ domain: 'a.com', uri: '/' }], port: 1, balance: { method: 'hash', key: 'remote_addr' } }));
    assert.ok(rejects(nginxServiceSchema, { domainUris: [{ domain: 'a.com', uri: '/' }, { domain: 'a.com', uri: '/' }], port: 1 }));
  });

  test('no string holding a config metacharacter ever passes a string schema (property)', () => {
    const meta = fc.constantFrom(';', '{', '}', '"', '\\', '\n', '\r', '\0', '$', '#', ' ');
    const str = fc.tuple(fc.string({ maxLength: 20 }), meta, fc.string({ maxLength: 20 })).map(([a, m, b]) => `/${a}${m}${b}`);
    fc.assert(
      fc.property(str, (s) => {
        assert.ok(rejects(locationUriSchema, s));
        assert.ok(rejects(domainNameSchema, s.slice(1)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('LVS input schemas', () => {
  const vs = { vip: '10.0.0.1', port: 80 };

  test('fills defaults: TCP, wrr, DR, a TCP check', () => {
    const v = lvsVirtualServiceSchema.parse(vs);
    assert.equal(v.protocol, 'TCP');
    assert.equal(v.scheduler, 'wrr');
    assert.equal(v.forwarding, 'DR');
    assert.deepEqual(v.healthCheck, { type: 'TCP_CHECK', connectTimeout: 3 });
  });

  test('refuses combinations LVS cannot run', () => {
    assert.ok(rejects(lvsVirtualServiceSchema, { ...vs, realPort: 8080 }), 'DR cannot change the port');
    assert.ok(lvsVirtualServiceSchema.safeParse({ ...vs, forwarding: 'NAT', realPort: 8080 }).success);
    assert.ok(rejects(lvsVirtualServiceSchema, { ...vs, synProxy: true }), 'syn_proxy needs FNAT');
    assert.ok(rejects(lvsVirtualServiceSchema, { ...vs, forwarding: 'FNAT' }), 'FNAT needs a local-address group');
    assert.ok(lvsVirtualServiceSchema.safeParse({ ...vs, forwarding: 'FNAT', synProxy: true, localAddressGroup: 'lg1' }).success);
    assert.ok(rejects(lvsVirtualServiceSchema, { ...vs, protocol: 'UDP' }), 'TCP_CHECK cannot check UDP');
    assert.ok(rejects(lvsVirtualServiceSchema, { ...vs, scheduler: 'bogus' }));
    assert.ok(rejects(lvsVirtualServiceSchema, { ...vs, vip: 'lvs.example.com' }));
    for (const path of ['/h#x', '/h!x', '/$x', '/a b', 'h', '/a\nb', '/~u']) {
      assert.ok(rejects(lvsVirtualServiceSchema, { ...vs, healthCheck: { type: 'HTTP_GET', path } }), path);
    }
    assert.ok(rejects(lvsServiceSchema, { virtualServices: [vs, vs] }), 'the same VIP:port twice');
  });
});
