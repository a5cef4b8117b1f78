import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createAggregator } from './aggregate.ts';

const routes = [
  { domain: 'shop.test', location: '/', upstream: 'web', service: 'c.shop.web' },
  { domain: 'shop.test', location: '/api/', upstream: 'api', service: 'c.shop.api' },
];
const line = (o: Record<string, unknown>) => JSON.stringify({ host: 'shop.test', uri: '/', status: 200, request_time: 0.002, upstream: 'web', upstream_addr: '10.0.0.1:80', upstream_status: '200', upstream_response_time: '0.002', ...o });

describe('counting access-log lines', () => {
  test('each request counts once by its final status under the longest matching location; each attempt under its backend', () => {
    const a = createAggregator();
    a.setRoutes(routes);
    a.add(line({ uri: '/api/cart' }));
    a.add(line({ uri: '/api/cart', status: 200, upstream_addr: '10.0.0.2:80, 10.0.0.1:80', upstream_status: '502, 200', upstream_response_time: '0.001, 0.003' }));
    a.add(line({ uri: '/index.html', status: 500, upstream_status: '500' }));
    assert.equal(a.add(line({ host: 'other.test' })), false, 'a domain of no route');
    assert.equal(a.add('not json'), false);
    const s = a.take();
    const get = (service: string, backend: string) => s.find((x) => x.service === service && x.backend === backend);
    assert.deepEqual(get('c.shop.api', '')?.statuses, { '200': 2 });
    assert.equal(get('c.shop.api', '')?.location, '/api/');
    assert.deepEqual(get('c.shop.api', '10.0.0.2:80')?.statuses, { '502': 1 });
    assert.deepEqual(get('c.shop.api', '10.0.0.1:80')?.statuses, { '200': 2 });
    assert.deepEqual(get('c.shop.web', '')?.statuses, { '500': 1 });
    assert.deepEqual(a.stats(), { lines: 5, unmatched: 2 });
    assert.deepEqual(a.take(), [], 'the next window starts empty');
  });

  test('runs of consecutive 5xx per backend: before the first answer, the longest, at the end', () => {
    const a = createAggregator();
    a.setRoutes(routes);
    for (const st of [500, 500, 200, 500, 500, 500, 200, 503]) a.add(line({ status: st, upstream_status: String(st) }));
    assert.deepEqual(a.take().find((x) => x.backend === '10.0.0.1:80')?.runs, { lead: 2, longest: 3, trail: 1 });
    for (const st of [502, 502]) a.add(line({ status: st, upstream_status: String(st) }));
    assert.deepEqual(a.take().find((x) => x.backend === '10.0.0.1:80')?.runs, { lead: 2, longest: 2, trail: 2 }, 'all failed: lead is every attempt');
  });
});
