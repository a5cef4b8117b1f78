import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '@canopy/core';
import type { LvsClusterInput, LvsVirtualService } from './model.ts';
import { renderLvsConfig, renderVirtualServer } from './render.ts';
import { checkFullnatStructure, toStockKeepalived, usesFullnat } from './fullnat.ts';

function vs(over: Partial<LvsVirtualService> = {}): LvsVirtualService {
  return {
    service: 'corp.pay.api',
    vip: '10.0.0.1',
    port: 80,
    protocol: 'TCP',
    scheduler: 'wrr',
    forwarding: 'DR',
    healthCheck: { type: 'TCP_CHECK', connectTimeout: 3, retry: 2, delayBeforeRetry: 1 },
    realServers: [
      { address: '10.0.1.2', weight: 5, status: 'up' },
      { address: '10.0.1.1', weight: 3, status: 'up' },
    ],
    ...over,
  };
}

const fullnat = (over: Partial<LvsVirtualService> = {}): LvsClusterInput => ({
  flavor: 'fullnat',
  localAddressGroups: [{ name: 'laddr_g1', addresses: ['10.9.0.2', '10.9.0.1'] }],
  virtualServices: [vs({ forwarding: 'FNAT', realPort: 8080, synProxy: true, localAddressGroup: 'laddr_g1', ...over })],
});

describe('keepalived renderer', () => {
  test('renders a virtual_server with its scheduler, method, persistence, weights and check', () => {
    const out = renderVirtualServer(vs({ persistenceTimeout: 300, delayLoop: 6 }), 'stock');
    assert.equal(
      out,
      [
        '# corp.pay.api',
        'virtual_server 10.0.0.1 80 {',
        '    delay_loop 6',
        '    lb_algo wrr',
        '    lb_kind DR',
        '    protocol TCP',
        '    persistence_timeout 300',
        ...['10.0.1.1', '10.0.1.2'].flatMap((ip) => [
          `    real_server ${ip} 80 {`,
          `        weight ${ip === '10.0.1.1' ? 3 : 5}`,
          '        TCP_CHECK {',
          '            connect_timeout 3',
          '            retry 2',
          '            delay_before_retry 1',
          '        }',
          '    }',
        ]),
        '}',
        '',
      ].join('\n'),
    );
  });

  test('draining and down real servers get weight 0, so IPVS keeps their connections but schedules none', () => {
    const out = renderVirtualServer(vs({ realServers: [
      { address: '10.0.1.1', weight: 3, status: 'draining' },
      { address: '10.0.1.2', weight: 5, status: 'down' },
      { address: '10.0.1.3', weight: 7, status: 'up' },
    ] }), 'stock');
    assert.deepEqual([...out.matchAll(/weight (\d+)/g)].map((m) => Number(m[1])), [0, 0, 7]);
  });

  test('a virtual service without real servers becomes a comment, not an invalid block', () => {
    assert.equal(renderVirtualServer(vs({ realServers: [] }), 'stock'), '# corp.pay.api\n# virtual_server 10.0.0.1 80 TCP: no real servers, left out\n');
  });

  test('output is byte-identical whatever the input order', () => {
    const a: LvsClusterInput = { flavor: 'stock', virtualServices: [vs(), vs({ port: 443 }), vs({ vip: '10.0.0.0' })] };
    const b: LvsClusterInput = { flavor: 'stock', virtualServices: [...a.virtualServices].reverse().map((v) => ({ ...v, realServers: [...v.realServers].reverse() })) };
    assert.deepEqual(renderLvsConfig(a), renderLvsConfig(b));
  });

  test('the fullnat flavor writes FNAT, syn_proxy, the local-address group and the fork checker words', () => {
    const out = renderLvsConfig(fullnat({ healthCheck: { type: 'HTTP_GET', path: '/health', statusCode: 200, connectTimeout: 2, retry: 3 } })).files[0]?.content ?? '';
    assert.match(out, /^local_address_group laddr_g1 \{\n {4}10\.9\.0\.1\n {4}10\.9\.0\.2\n\}\n/);
    assert.match(out, / {4}lb_kind FNAT\n {4}protocol TCP\n {4}syn_proxy\n {4}laddr_group_name laddr_g1\n/);
    assert.match(out, /real_server 10\.0\.1\.1 8080 \{/);
    assert.match(out, /nb_get_retry 3/);
    assert.deepEqual(checkFullnatStructure(out), []);
  });

  test('refuses what keepalived or IPVS cannot run', () => {
    const bad: [string, () => unknown][] = [
      ['FNAT on stock', () => renderVirtualServer(vs({ forwarding: 'FNAT', localAddressGroup: 'g' }), 'stock')],
      ['syn_proxy without FNAT', () => renderVirtualServer(vs({ synProxy: true }), 'fullnat')],
      ['DR changing the port', () => renderVirtualServer(vs({ realPort: 8080 }), 'stock')],
      ['mixed families outside TUN', () => renderVirtualServer(vs({ realServers: [{ address: 'fd00::1', weight: 1, status: 'up' }] }), 'stock')],
      ['scheduler', () => renderVirtualServer(vs({ scheduler: 'rr\n}' }), 'stock')],
      ['check path', () => renderVirtualServer(vs({ healthCheck: { type: 'HTTP_GET', path: '/a # b', statusCode: 200, connectTimeout: 1 } }), 'stock')],
      ['host name', () => renderVirtualServer(vs({ vip: 'lvs.example.com' }), 'stock')],
      ['duplicate real server', () => renderVirtualServer(vs({ realServers: [{ address: '10.0.1.1', weight: 1, status: 'up' }, { address: '10.0.1.1', weight: 1, status: 'up' }] }), 'stock')],
      ['UDP_CHECK on the fork', () => renderVirtualServer(vs({ protocol: 'UDP', healthCheck: { type: 'UDP_CHECK', connectTimeout: 1 } }), 'fullnat')],
      ['same VIP:port twice', () => renderLvsConfig({ flavor: 'stock', virtualServices: [vs(), vs()] })],
      ['unknown group', () => renderLvsConfig(fullnat({ localAddressGroup: 'nope' }))],
    ];
    for (const [name, fn] of bad) assert.throws(fn, ValidationError, name);
    assert.throws(() => renderLvsConfig({ flavor: 'stock', virtualServices: [vs(), vs({ port: 81, realPort: 82 })] }), (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      assert.deepEqual(err.issues[0]?.path, ['virtualServices', 1, 'realPort']);
      return true;
    });
    assert.match(renderVirtualServer(vs({ forwarding: 'TUN', realServers: [{ address: 'fd00::1', weight: 1, status: 'up' }] }), 'stock'), /real_server fd00::1 80/);
  });
});

describe('FULLNAT structural check', () => {
  test('finds misplaced or dangling FULLNAT keywords', () => {
    const text = [
      'local_address_group g1 {', '    10.9.0.1', '    10.9.0.5-20', '}',
      'virtual_server 10.0.0.1 80 {', '    lb_kind DR', '    protocol TCP', '    syn_proxy',
      '    real_server 10.0.1.1 80 {', '        laddr_group_name g1', '    }', '}',
      'virtual_server 10.0.0.1 81 {', '    lb_kind FNAT', '    laddr_group_name g2', '}',
      'local_address_group g3 {', '    not-an-ip', '}',
    ].join('\n');
    const issues = checkFullnatStructure(text);
    assert.ok(issues.some((i) => /line 8: syn_proxy needs lb_kind FNAT/.test(i)), issues.join('\n'));
    assert.ok(issues.some((i) => /line 10: laddr_group_name must sit directly in a virtual_server/.test(i)), issues.join('\n'));
    assert.ok(issues.some((i) => /line 15: laddr_group_name must name a defined local_address_group/.test(i)), issues.join('\n'));
    assert.ok(issues.some((i) => /line 18: 'not-an-ip' is not a local address/.test(i)), issues.join('\n'));
    assert.deepEqual(checkFullnatStructure('virtual_server 10.0.0.1 80 {\n    lb_kind FNAT\n'), ['line 1: block not closed', 'line 1: FNAT virtual_server needs laddr_group_name']);
  });

  test('the stock copy blanks FULLNAT lines and keeps line numbers', () => {
    const text = renderLvsConfig(fullnat()).files[0]?.content ?? '';
    const stock = toStockKeepalived(text);
    assert.equal(stock.split('\n').length, text.split('\n').length);
    assert.ok(usesFullnat(text));
    assert.ok(!usesFullnat(stock));
    assert.match(stock, /lb_kind NAT/);
  });
});
