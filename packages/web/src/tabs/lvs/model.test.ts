import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lvsVirtualServiceSchema } from '@canopy/core';
import { checkLabel, NEW_VS, realPorts, vipLabel, vsBodyOf, vsDraftOf } from './model.ts';

describe('LVS form drafts', () => {
  test('a stored FNAT virtual service survives the form unchanged', () => {
    const stored = lvsVirtualServiceSchema.parse({
      vip: '10.0.0.100', port: 80, realPort: 8080, forwarding: 'FNAT', synProxy: true, localAddressGroup: 'g1', persistenceTimeout: 300,
      healthCheck: { type: 'HTTP_GET', path: '/health', connectTimeout: 2, retry: 3 },
    });
    assert.deepEqual(lvsVirtualServiceSchema.parse(vsBodyOf(vsDraftOf(stored))), stored);
  });

  test('leaving FNAT drops syn_proxy and the local-address group; a check keeps only its own fields', () => {
    const draft = { ...NEW_VS, vip: '10.0.0.1', port: 53, protocol: 'UDP' as const, forwarding: 'NAT' as const, synProxy: true, localAddressGroup: 'g1', persistenceTimeout: null, healthCheck: { type: 'UDP_CHECK' as const, path: '/x', connectTimeout: 5, retry: null } };
    const body = vsBodyOf(draft);
    assert.deepEqual(body, { vip: '10.0.0.1', port: 53, protocol: 'UDP', scheduler: 'wrr', forwarding: 'NAT', synProxy: false, healthCheck: { type: 'UDP_CHECK', connectTimeout: 5 } });
    assert.ok(lvsVirtualServiceSchema.safeParse(body).success);
  });

  test('labels and real ports read as an operator writes them', () => {
    const vs = lvsVirtualServiceSchema.parse({ vip: 'fd00::1', port: 443 });
    assert.equal(vipLabel(vs), '[fd00::1]:443/TCP');
    assert.equal(checkLabel(vs.healthCheck), 'TCP connect, 3s timeout');
    assert.deepEqual(realPorts([vs, { ...vs, port: 80, realPort: 8080 }, { ...vs, port: 8443, realPort: 443 }]), [443, 8080]);
  });
});
