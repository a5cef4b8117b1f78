import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LVS_SCHEDULERS, lvsVirtualServiceSchema, type LvsVirtualServiceSettings } from '@canopy/core';
import type { LvsClusterInput, LvsRealServer, LvsVirtualService } from './model.ts';
import { renderLvsConfig } from './render.ts';
import { checkKeepalivedConfig, findKeepalived } from './keepalived-binary.ts';

const missing = findKeepalived() === null ? 'keepalived not installed: apt-get install keepalived' : '';
if (missing !== '') console.error(`\n!!! SKIPPING keepalived -t tests: ${missing}\n`);

/** A virtual service as the persistence layer will build it: validated settings plus the node's machines. */
function toVirtualService(settings: LvsVirtualServiceSettings, realServers: LvsRealServer[]): LvsVirtualService {
  return { ...settings, realServers };
}

const text = (input: LvsClusterInput): string => renderLvsConfig(input).files[0]?.content ?? '';

const real = (address: string, weight = 1, status: LvsRealServer['status'] = 'up'): LvsRealServer => ({ address, weight, status });

describe('keepalived -t on generated configs', { skip: missing !== '' ? missing : false }, () => {
  test('accepts every forwarding method, protocol and checker of the stock flavor', async () => {
    const parse = (v: unknown) => lvsVirtualServiceSchema.parse(v);
    const input: LvsClusterInput = {
      flavor: 'stock',
      virtualServices: [
        toVirtualService(parse({ vip: '10.0.0.1', port: 80, persistenceTimeout: 600, delayLoop: 5 }), [real('10.0.1.1', 3), real('10.0.1.2', 1, 'draining')]),
        toVirtualService(parse({ vip: '10.0.0.1', port: 8080, forwarding: 'NAT', realPort: 9000, scheduler: 'wlc', healthCheck: { type: 'HTTP_GET', path: '/health?deep=1', retry: 2, delayBeforeRetry: 1 } }), [real('10.0.1.1')]),
        toVirtualService(parse({ vip: '10.0.0.1', port: 53, protocol: 'UDP', scheduler: 'sh', healthCheck: { type: 'UDP_CHECK', connectTimeout: 2 } }), [real('10.0.1.1')]),
        toVirtualService(parse({ vip: 'fd00::1', port: 443, forwarding: 'TUN', scheduler: 'mh', healthCheck: { type: 'none' } }), [real('fd00::2'), real('10.0.1.9')]),
        toVirtualService(parse({ vip: '10.0.0.2', port: 80 }), []),
      ],
    };
    const r = await checkKeepalivedConfig(text(input));
    assert.ok(r.ok, r.output);
    assert.equal(r.fullnat, false);
    assert.deepEqual(r.ignoredWarnings, []);
  });

  test('a fully drained virtual service passes, with only the expected quorum warnings set aside', async () => {
    const vs = toVirtualService(lvsVirtualServiceSchema.parse({ vip: '10.0.0.1', port: 80 }), [real('10.0.1.1', 3, 'draining'), real('10.0.1.2', 1, 'down')]);
    const r = await checkKeepalivedConfig(text({ flavor: 'stock', virtualServices: [vs] }));
    assert.ok(r.ok, r.output);
    assert.equal(r.ignoredWarnings.length, 2);
  });

  test('keepalived errors fail the check: an unknown keyword is reported with its line', async () => {
    const r = await checkKeepalivedConfig('virtual_server 10.0.0.1 80 {\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    bogus_keyword 1\n    real_server 10.0.1.1 80 {\n        weight 1\n    }\n}\n');
    assert.equal(r.ok, false);
    assert.match(r.output, /Line 5\) Unknown keyword 'bogus_keyword'/);
  });

  test('FULLNAT configs: keywords checked structurally, the rest by keepalived, and the result says so', async () => {
    const input: LvsClusterInput = {
      flavor: 'fullnat',
      localAddressGroups: [{ name: 'laddr_g1', addresses: ['10.9.0.1', '10.9.0.2'] }],
      virtualServices: [
        toVirtualService(lvsVirtualServiceSchema.parse({
          vip: '10.0.0.1', port: 80, forwarding: 'FNAT', realPort: 8080, synProxy: true, localAddressGroup: 'laddr_g1',
          healthCheck: { type: 'HTTP_GET', path: '/h', retry: 3, delayBeforeRetry: 2 },
        }), [real('10.0.1.1'), real('10.0.1.2', 2, 'draining')]),
      ],
    };
    const good = await checkKeepalivedConfig(text(input));
    assert.ok(good.ok, good.output);
    assert.equal(good.fullnat, true);
    assert.match(good.output, /FULLNAT keywords .* checked structurally; stock keepalived checked the rest/);
    const broken = await checkKeepalivedConfig(text(input).replace('laddr_group_name laddr_g1', 'laddr_group_name nowhere'));
    assert.equal(broken.ok, false);
    assert.match(broken.output, /laddr_group_name must name a defined local_address_group/);
    const stockError = await checkKeepalivedConfig(text(input).replace('lb_algo wrr', 'lb_algo wrr\n    bogus_keyword 1'));
    assert.equal(stockError.ok, false, 'keepalived still checks the non-FULLNAT parts');
  });

  // CANOPY_FUZZ_RUNS raises the count for a deliberate long fuzz session.
  const numRuns = Number(process.env['CANOPY_FUZZ_RUNS'] ?? 30);
  test(`fuzz: ${numRuns} schema-valid random clusters all pass keepalived -t`, async () => {
    const timing = { connectTimeout: fc.integer({ min: 1, max: 3600 }), retry: fc.integer({ min: 0, max: 100 }) };
    const tcpCheck = fc.oneof(
      fc.constant({ type: 'none' }),
      fc.record({ type: fc.constant('TCP_CHECK'), ...timing }),
      fc.record({ type: fc.constant('HTTP_GET'), path: fc.stringMatching(/^\/[A-Za-z0-9._/-]{0,20}(?:\?[A-Za-z0-9._=&-]{0,20})?$/), statusCode: fc.integer({ min: 100, max: 599 }) }),
    );
    const udpCheck = fc.oneof(fc.constant({ type: 'none' }), fc.record({ type: fc.constant('UDP_CHECK'), ...timing }));
    // Real servers share the VIP's family (only TUN may mix, and the schema cannot see machines).
    const service = fc.tuple(fc.constantFrom('TCP', 'UDP'), fc.boolean()).chain(([protocol, v6]) => {
      const ip = v6 ? fc.ipV6() : fc.ipV4();
      return fc.record({
        vip: ip,
        port: fc.integer({ min: 1, max: 65535 }),
        protocol: fc.constant(protocol),
        scheduler: fc.constantFrom(...LVS_SCHEDULERS),
        forwarding: fc.constantFrom('DR', 'NAT', 'TUN'),
        realPort: fc.integer({ min: 1, max: 65535 }),
        persistenceTimeout: fc.option(fc.integer({ min: 1, max: 2_592_000 }), { nil: undefined }),
        delayLoop: fc.option(fc.integer({ min: 1, max: 3600 }), { nil: undefined }),
        healthCheck: protocol === 'TCP' ? tcpCheck : udpCheck,
        servers: fc.uniqueArray(fc.record({ address: ip, weight: fc.integer({ min: 0, max: 65535 }), status: fc.constantFrom('up', 'draining', 'down' as const) }), {
          maxLength: 4,
          selector: (s) => s.address,
        }),
      });
    });
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(service, { minLength: 1, maxLength: 4, selector: (s) => `${s.vip} ${s.port} ${s.protocol}` }), async (list) => {
        runs++;
        const virtualServices = list.map(({ servers, persistenceTimeout, delayLoop, realPort, ...rest }) => {
          const optional = {
            ...(persistenceTimeout === undefined ? {} : { persistenceTimeout }),
            ...(delayLoop === undefined ? {} : { delayLoop }),
            ...(rest.forwarding === 'NAT' ? { realPort } : {}),
          };
          return toVirtualService(lvsVirtualServiceSchema.parse({ ...rest, ...optional }), servers);
        });
        const config = text({ flavor: 'stock', virtualServices });
        const r = await checkKeepalivedConfig(config);
        assert.ok(r.ok, `${r.output}\n${config}`);
      }),
      { numRuns },
    );
    assert.equal(runs, numRuns);
  });
});
