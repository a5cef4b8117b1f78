/**
 * Availability over a real control center (PGlite, and PostgreSQL when configured): counts pushed
 * on the `access` stream are shown exactly and counted once however often resent; five 5xx in a
 * row across windows eject a backend (drained in discovery, audited), never beyond the max share;
 * the ejection ends after its time; settings are validated and audited; bad input changes nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessPush, AccessSeries } from '@canopy/core';
import { startTestServer, testBackends, type TestServer } from '../testing/index.ts';
import { createServices } from '../services.ts';
import { mkInstance, mkService } from '../discovery/fixtures.test-util.ts';

const SVC = 'av.shop.web';
const EDGE = 'av-edge-1';
const backends = ['198.18.200.1', '198.18.200.2', '198.18.200.3'].map((ip) => `${ip}:8080`);

function series(backend: string, statuses: Record<string, number>, runs?: AccessSeries['runs']): AccessSeries {
  return { domain: 'shop.test', location: '/', service: SVC, backend, statuses, latency: [0, 0, Object.values(statuses).reduce((a, b) => a + b, 0)], ...(runs ? { runs } : {}) };
}

for (const backend of testBackends()) describe(`availability (${backend.name})`, () => {
  let s: TestServer;
  let edgeId: number;
  let seq = 0;
  let offset = 0;
  const push = (list: AccessSeries[], source = 'src-a', n = ++seq): Promise<void> => {
    const batch: AccessPush = { seq: n, source, from: Date.now() - 1000, to: Date.now(), series: list };
    return s.services.availability.take({ machineId: edgeId }, batch);
  };
  const view = async (window = '1h') => {
    const r = await s.call('GET', `/api/v1/monitor/availability/services/${SVC}?window=${window}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  const instanceStatus = async (host: string) => (await s.call('GET', `/api/v1/services/${SVC}/instances/${host}/8080`)).body.status as string;

  before(async () => {
    s = await startTestServer(backend, { availability: { clock: () => Date.now() + offset } });
    await mkService(s, SVC);
    for (const [i, b] of backends.entries()) await mkInstance(s, SVC, `av-web-${i + 1}`, b.split(':')[0]!);
    const m = await s.call('POST', '/api/v1/machines', { hostname: EDGE, ips: ['198.18.200.10'], status: 'online' });
    edgeId = m.body.id;
  });
  after(() => s.close());

  test('counts pushed are shown exactly, per service, backend and route; a resent batch counts once', async () => {
    await push([series('', { '200': 90, '404': 5, '502': 5 }), series(backends[0]!, { '200': 50 }), series(backends[1]!, { '200': 40, '502': 5 }, { lead: 0, longest: 5 - 4, trail: 1 })]);
    await push([series('', { '200': 10 })], 'src-a', seq); // the same batch again (its ack was lost)
    const v = await view();
    assert.deepEqual([v.total, v.failed, v.availability], [100, 5, 0.95], 'final statuses: 404 is not a failure, 502 is');
    const b = Object.fromEntries(v.backends.map((x: any) => [x.backend, [x.hostname, x.total, x.failed]]));
    assert.deepEqual(b, { [backends[0]!]: ['av-web-1', 50, 0], [backends[1]!]: ['av-web-2', 45, 5], [backends[2]!]: ['av-web-3', 0, 0] });
    assert.deepEqual(v.routes.map((r: any) => [r.domain, r.location, r.total]), [['shop.test', '/', 100]]);
    assert.ok(v.p50Ms > 1 && v.p50Ms <= 3, String(v.p50Ms));
    assert.equal(v.slo.target, 0.999);
    assert.ok(v.slo.alerts.find((a: any) => a.name === '14.4x-1h-5m').firing, '5 % errors burn a 99.9 % budget 50× too fast');
    const of = s.services.availability.during(s.services.tree.model.byPath(SVC)!.id, Date.now() - 60_000, Date.now());
    assert.deepEqual(of, { total: 100, failed: 5, target: 0.999 });
    // The alert evaluator's synthetic series: the workbook's burn alerts on each machine of the service.
    const web1 = s.services.machines.model.byHostname('av-web-1')!.id;
    const burn = s.services.availability.builtinSeries('canopy_slo_burn_alert', web1)!;
    assert.deepEqual(burn.find((x) => x.labels['alert'] === '14.4x-1h-5m'), { labels: { service: SVC, alert: '14.4x-1h-5m', severity: 'page' }, value: 1 });
    assert.deepEqual(s.services.availability.builtinSeries('canopy_slo_burn_alert', edgeId), [], 'the edge machine serves no service here');
    assert.equal(s.services.availability.builtinSeries('node_load1', web1), undefined);
    const list = await s.call('GET', '/api/v1/monitor/availability?under=av');
    assert.deepEqual(list.body.items.map((i: any) => [i.path, i.total]), [[SVC, 100]]);
  });

  test('five 5xx in a row across two windows eject the backend: drained in discovery, audited; no more than the max share', async () => {
    await push([series(backends[2]!, { '200': 1, '500': 3 }, { lead: 0, longest: 3, trail: 3 }), series(backends[0]!, { '503': 4 }, { lead: 4, longest: 4, trail: 4 })]);
    assert.equal(await instanceStatus('av-web-3'), 'up', 'three are not five');
    await push([series(backends[2]!, { '500': 2 }, { lead: 2, longest: 2, trail: 2 }), series(backends[0]!, { '503': 3 }, { lead: 3, longest: 3, trail: 3 })]);
    const v = await view();
    const ejected = v.backends.filter((x: any) => x.ejected).map((x: any) => x.backend);
    assert.equal(ejected.length, 1, 'max 10 % of three hosts is one');
    const host = v.backends.find((x: any) => x.ejected).hostname;
    assert.equal(await instanceStatus(host), 'draining');
    const ejectedOn = s.services.availability.builtinSeries('canopy_backend_ejected', s.services.machines.model.byHostname(host)!.id);
    assert.deepEqual(ejectedOn?.map((x) => [x.labels['service'], x.value]), [[SVC, 1]]);
    const audit = await s.call('GET', `/api/v1/audit?under=${SVC}&operation=availability.eject`);
    const ops = (audit.body.items as any[]).map((e) => e.operation);
    assert.ok(ops.includes('availability.eject'), JSON.stringify(ops));
    const ej = await s.call('GET', `/api/v1/monitor/availability/services/${SVC}/ejections`);
    assert.deepEqual(ej.body.items.map((e: any) => [e.hostname, e.reason, e.returnedAt]), [[host, 'consecutive-5xx', null]]);
  });

  test('the ejection ends after its time and the backend serves again', async () => {
    const v = await view();
    const host = v.backends.find((x: any) => x.ejected).hostname as string;
    const settings = await s.call('PUT', `/api/v1/monitor/availability/services/${SVC}/settings`, { slo: { target: 0.99 }, ejection: { baseEjectionSeconds: 1 } });
    assert.equal(settings.status, 200, JSON.stringify(settings.body));
    await s.services.availability.tick();
    assert.equal(await instanceStatus(host), 'draining', 'not before its time');
    offset += 31_000; // the first ejection lasts the base time, 30 s
    await s.services.availability.tick();
    assert.equal(await instanceStatus(host), 'up');
    const after = await view();
    assert.deepEqual(after.backends.filter((x: any) => x.ejected), []);
    const ej = await s.call('GET', `/api/v1/monitor/availability/services/${SVC}/ejections`);
    assert.ok(ej.body.items[0].returnedAt, 'the return is recorded');
    assert.equal((await view()).settings.slo.target, 0.99);
  });

  test('a backend whose success rate falls below mean − 1.9σ of five is ejected at the interval', async () => {
    const svc = 'av.shop.five';
    await mkService(s, svc);
    const five = [1, 2, 3, 4, 5].map((i) => `198.18.202.${i}:8080`);
    for (const [i, b] of five.entries()) await mkInstance(s, svc, `av-five-${i + 1}`, b.split(':')[0]!);
    await s.call('PUT', `/api/v1/monitor/availability/services/${svc}/settings`, { ejection: { consecutive5xx: 0, maxEjectionPercent: 20 } });
    const at = (b: string, ok: number, bad: number): AccessSeries => ({ domain: 'five.test', location: '/', service: svc, backend: b, statuses: { '200': ok, ...(bad ? { '500': bad } : {}) }, latency: [], runs: { lead: 0, longest: 1, trail: 0 } });
    await push([...five.slice(0, 4).map((b) => at(b, 200, 0)), at(five[4]!, 120, 80)]);
    offset += 11_000;
    await s.services.availability.tick();
    const v = (await s.call('GET', `/api/v1/monitor/availability/services/${svc}?window=1h`)).body;
    assert.deepEqual(v.backends.filter((b: any) => b.ejected).map((b: any) => b.hostname), ['av-five-5']);
    const ej = await s.call('GET', `/api/v1/monitor/availability/services/${svc}/ejections`);
    assert.match(ej.body.items[0].detail, /success rate 60\.00% < /);
    assert.equal(await (async () => (await s.call('GET', `/api/v1/services/${svc}/instances/av-five-5/8080`)).body.status)(), 'draining');
  });

  test('another replica over the same database loads the same figures and ejections', async () => {
    const replica = createServices(s.database, { onError: (err) => console.error(err), availability: { clock: () => Date.now() + offset } });
    await replica.start();
    try {
      const here = s.services.availability.service(SVC, 3_600_000);
      const there = replica.availability.service(SVC, 3_600_000);
      assert.deepEqual([there.total, there.failed, there.backends.map((b) => [b.backend, b.total, b.ejected])], [here.total, here.failed, here.backends.map((b) => [b.backend, b.total, b.ejected])]);
      assert.equal(there.settings.slo.target, 0.99);
    } finally {
      await replica.stop();
    }
  });

  test('bad input is refused and changes nothing', async () => {
    await assert.rejects(s.services.availability.take({ machineId: edgeId }, { seq: 0, series: 'x' }), /not an access-count batch/);
    const bad = await s.call('PUT', `/api/v1/monitor/availability/services/${SVC}/settings`, { failStatuses: ['6xx'], ejection: { baseEjectionSeconds: 60, maxEjectionSeconds: 30 } });
    assert.equal(bad.status, 400);
    const backwards = await s.call('PUT', `/api/v1/monitor/availability/services/${SVC}/settings`, { ejection: { baseEjectionSeconds: 60, maxEjectionSeconds: 30 } });
    assert.equal(backwards.status, 400);
    assert.equal((await s.call('GET', `/api/v1/monitor/availability/services/${SVC}/settings`)).body.settings.slo.target, 0.99);
    assert.equal((await s.call('GET', `/api/v1/monitor/availability/services/${SVC}?window=5y`)).status, 400);
    assert.equal((await s.call('GET', '/api/v1/monitor/availability/services/no.such.node')).status, 404);
  });
});
