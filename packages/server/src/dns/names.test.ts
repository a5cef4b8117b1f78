import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { addrNameOf, canonicalIp, dnsNameOf, parseName } from './names.ts';

const D = 'svc.canopy';

describe('DNS names of services', () => {
  test('a service name is its node path reversed, in any letter case', () => {
    assert.deepEqual(parseName('Web.OPS.corp.svc.canopy.', D), { kind: 'service', path: 'corp.ops.web' });
    assert.equal(dnsNameOf('corp.ops.web', D), 'web.ops.corp.svc.canopy');
    assert.equal(dnsNameOf('corp.ops.web', D, 'http'), '_http._tcp.web.ops.corp.svc.canopy');
  });

  test('RFC 2782 names name a port; `_tcp.<service>` is their parent', () => {
    assert.deepEqual(parseName('_http._tcp.web.ops.corp.svc.canopy', D), { kind: 'srv', portName: 'http', path: 'corp.ops.web' });
    assert.deepEqual(parseName('_tcp.web.ops.corp.svc.canopy', D), { kind: 'proto', path: 'corp.ops.web' });
    assert.deepEqual(parseName('_http._udp.web.svc.canopy', D), { kind: 'invalid' });
    assert.deepEqual(parseName('under_score.svc.canopy', D), { kind: 'invalid' });
  });

  test('the apex, and names outside the zone, including look-alike suffixes', () => {
    assert.deepEqual(parseName('SVC.canopy', D), { kind: 'apex' });
    assert.deepEqual(parseName('example.com', D), { kind: 'outside' });
    assert.deepEqual(parseName('web.xsvc.canopy', D), { kind: 'outside' });
  });

  test('addr names round-trip IPv4 and IPv6 addresses, embedded IPv4 tails included', () => {
    assert.equal(addrNameOf('10.0.1.1', D), '0a000101.addr.svc.canopy');
    assert.equal(addrNameOf('2001:db8::1', D), '20010db8000000000000000000000001.addr.svc.canopy');
    assert.equal(addrNameOf('::ffff:10.0.0.1', D), '00000000000000000000ffff0a000001.addr.svc.canopy');
    for (const ip of ['10.0.1.1', '2001:db8::1', 'fe80::1:2', '::1']) {
      const parsed = parseName(addrNameOf(ip, D), D);
      assert.equal(parsed.kind === 'addr' && parsed.ip, ip);
    }
  });

  test('addresses compare in one spelling', () => {
    assert.equal(canonicalIp('::ffff:127.0.0.2'), '127.0.0.2');
    assert.equal(canonicalIp('2001:DB8:0:0::1'), '2001:db8::1');
    assert.equal(canonicalIp('10.0.0.1'), '10.0.0.1');
  });
});
