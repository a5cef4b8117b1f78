import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AvailabilitySettings,
  DEFAULT_AVAILABILITY_SETTINGS,
  FRESH,
  bucketOf,
  detectConsecutive,
  detectInterval,
  emptyHistogram,
  isFailure,
  joinRuns,
  parseAccessLine,
  quantileMs,
  sloStatus,
  type OutlierHost,
} from '../index.ts';

const line = (o: Record<string, unknown>) =>
  JSON.stringify({ time: '2026-12-03T17:00:00+00:00', host: 'shop.test', uri: '/a', status: 200, request_time: 0.004, upstream: 'shop_web', upstream_addr: '', upstream_status: '', upstream_response_time: '', ...o });

describe('access log lines', () => {
  test('lists every upstream attempt, across retries and groups', () => {
    const l = parseAccessLine(line({ status: 200, upstream_addr: '10.0.0.1:80, 10.0.0.2:80 : 10.0.1.1:81', upstream_status: '502, 200 : 200', upstream_response_time: '0.001, 0.020 : 0.003' }));
    assert.deepEqual(l?.attempts, [
      { addr: '10.0.0.1:80', status: 502, seconds: 0.001 },
      { addr: '10.0.0.2:80', status: 200, seconds: 0.02 },
      { addr: '10.0.1.1:81', status: 200, seconds: 0.003 },
    ]);
  });
  test('a request nginx answered itself has no attempts; junk lines are skipped', () => {
    assert.deepEqual(parseAccessLine(line({ status: 404, upstream: '' }))?.attempts, []);
    assert.equal(parseAccessLine('127.0.0.1 - - [03/Dec/2026] "GET / HTTP/1.1" 200'), undefined);
    assert.equal(parseAccessLine('{"host":"torn'), undefined);
    assert.equal(parseAccessLine(line({ status: '-' })), undefined);
  });
  test('an unreachable backend shows as 502 with unknown time', () => {
    const l = parseAccessLine(line({ status: 502, upstream_addr: '10.0.0.9:80', upstream_status: '502', upstream_response_time: '-' }));
    assert.equal(l?.attempts[0]?.status, 502);
    assert.ok(Number.isNaN(l?.attempts[0]?.seconds));
  });
});

describe('latency histograms', () => {
  test('quantiles interpolate inside the bucket', () => {
    const h = emptyHistogram();
    for (let i = 0; i < 99; i++) h[bucketOf(0.004)]!++;
    h[bucketOf(0.9)]!++;
    assert.equal(bucketOf(0.001), 0);
    const p50 = quantileMs(h, 0.5)!;
    assert.ok(p50 > 3 && p50 <= 5, String(p50));
    assert.ok(quantileMs(h, 0.999)! > 750);
    assert.equal(quantileMs(emptyHistogram(), 0.5), null);
  });
});

describe('SLOs', () => {
  test('error budget left and the workbook burn-rate alerts', () => {
    // 99.9 %: 1,000,000 requests in the window allow 1,000 failures; 400 spent.
    const fast = sloStatus(0.999, 28, (ms) => (ms <= 3_600_000 ? { total: 10_000, failed: 200 } : { total: 1_000_000, failed: 400 }));
    assert.equal(fast.budget.toFixed(0), '1000');
    assert.equal(fast.budgetLeft!.toFixed(2), '0.60');
    const page = fast.alerts.find((a) => a.name === '14.4x-1h-5m')!;
    assert.deepEqual([page.firing, page.longBurn.toFixed(0)], [true, '20']);
    assert.equal(fast.alerts.find((a) => a.name === '6x-6h-30m')!.firing, false, 'the 6 h window burns slowly');
    const idle = sloStatus(0.999, 28, () => ({ total: 0, failed: 0 }));
    assert.deepEqual([idle.availability, idle.budgetLeft, idle.alerts.some((a) => a.firing)], [null, null, false]);
  });
  test('success is not 5xx by default, and configurable per service', () => {
    assert.deepEqual([isFailure(503, ['5xx']), isFailure(404, ['5xx']), isFailure(429, ['5xx', '429'])], [true, false, true]);
    assert.deepEqual(DEFAULT_AVAILABILITY_SETTINGS.ejection, {
      enabled: true, consecutive5xx: 5, intervalSeconds: 10, baseEjectionSeconds: 30, maxEjectionSeconds: 300, maxEjectionPercent: 10,
      successRate: { enabled: true, minimumHosts: 5, requestVolume: 100, stdevFactor: 1.9 },
    });
    assert.equal(AvailabilitySettings.safeParse({ failStatuses: ['6xx'] }).success, false);
  });
});

const S = DEFAULT_AVAILABILITY_SETTINGS.ejection;
const host = (key: string, o: Partial<OutlierHost> = {}): OutlierHost => ({ key, state: FRESH, available: true, ...o });

describe('outlier detection (Envoy semantics)', () => {
  test('five consecutive 5xx eject, for base × count, capped', () => {
    const d = detectConsecutive([host('a', { maxStreak: 5 }), host('b', { maxStreak: 4 }), host('c')], S, 0, 1000);
    assert.deepEqual(d.map((x) => [x.kind, x.key]), [['eject', 'a']]);
    assert.deepEqual(d[0]!.kind === 'eject' && d[0]!.state, { ejected: true, count: 1, ejectedAt: 1000, until: 31_000 });
    const again = detectConsecutive([host('a', { maxStreak: 9, state: { ejected: false, count: 12, ejectedAt: 0, until: 0 } })], S, 0, 0);
    assert.equal(again[0]!.kind === 'eject' && again[0]!.state.until, 300_000, 'capped at 300 s');
  });
  test('never beyond the max share (at least one) nor below the protect threshold', () => {
    const three = [host('a', { maxStreak: 5 }), host('b', { maxStreak: 5 }), host('c')];
    assert.deepEqual(detectConsecutive(three, S, 0, 0).map((x) => x.kind), ['eject', 'spared']);
    assert.deepEqual(detectConsecutive(three, S, 0.7, 0).map((x) => x.kind), ['spared', 'spared'], '2 of 3 serving is below 0.7');
    const down = [host('a', { maxStreak: 5 }), host('b', { available: false }), host('c')];
    assert.deepEqual(detectConsecutive(down, S, 0.5, 0).map((x) => x.kind), ['spared']);
  });
  test('success rate below mean − 1.9σ needs five hosts with 100 requests', () => {
    const ok = (k: string) => host(k, { total: 200, succeeded: 200 });
    const five = [ok('a'), ok('b'), ok('c'), ok('d'), host('e', { total: 200, succeeded: 100 })];
    const d = detectInterval(five, { ...S, maxEjectionPercent: 20 }, 0, 0);
    assert.deepEqual(d.map((x) => [x.kind, x.key]), [['eject', 'e']]);
    assert.match(d[0]!.kind === 'eject' ? d[0]!.detail : '', /success rate 50.00%/);
    assert.deepEqual(detectInterval(five.slice(1), S, 0, 0), [], 'four hosts are too few');
    assert.deepEqual(detectInterval([...five.slice(0, 4), host('e', { total: 99, succeeded: 0 })], S, 0, 0), [], 'too few requests');
  });
  test('an ejection ends after its time once the host answers; time in service lowers the multiplier', () => {
    const ejected = { ejected: true, count: 2, ejectedAt: 0, until: 60_000 };
    assert.deepEqual(detectInterval([host('a', { state: ejected })], S, 0, 59_999), []);
    assert.deepEqual(detectInterval([host('a', { state: ejected })], S, 0, 60_000, () => false), [], 'still not answering');
    assert.deepEqual(detectInterval([host('a', { state: ejected })], S, 0, 60_000).map((x) => [x.kind, "state" in x && x.state]), [['return', { ...ejected, ejected: false }]]);
    assert.deepEqual(detectInterval([host('a', { state: { ...ejected, ejected: false } })], S, 0, 70_000).map((x) => [x.kind, "state" in x && x.state.count]), [['cool', 1]]);
  });
});

describe('runs of 5xx across windows', () => {
  test('a run that spans windows is joined; an answer in between breaks it', () => {
    assert.deepEqual(joinRuns(3, { lead: 2, longest: 2, trail: 2 }, 2), { longest: 5, run: 5 }, 'all failed: the run goes on');
    assert.deepEqual(joinRuns(3, { lead: 1, longest: 4, trail: 0 }, 9), { longest: 4, run: 0 });
    assert.deepEqual(joinRuns(4, { lead: 1, longest: 1, trail: 2 }, 5), { longest: 5, run: 2 });
    assert.deepEqual(joinRuns(7, { lead: 0, longest: 0, trail: 0 }, 3), { longest: 0, run: 0 }, 'an ended run is not reported again');
  });
});
