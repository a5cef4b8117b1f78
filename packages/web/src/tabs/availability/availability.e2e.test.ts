/**
 * The Availability tab in Chromium: a service with counted traffic shows its availability, its SLO
 * budget and burn alert, its backends with the one ejected marked and the ejection in the history;
 * the operator changes the SLO from the tab and the server holds the new one.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { AccessSeries } from '@canopy/core';
import { ADMIN_PASSWORD } from '../../../../server/src/testing/index.ts';
import { ROOT, chromiumMissing, startConsoleE2E, type ConsoleE2E } from '../../e2e-harness.test-util.ts';

const OUT = join(ROOT, '.cache/web-e2e-availability');
const SVC = 'avw.shop.web';

describe('the Availability tab in Chromium', { skip: chromiumMissing }, () => {
  let h: ConsoleE2E;
  let page: ConsoleE2E['page'];

  before(async () => {
    h = await startConsoleE2E(OUT);
    page = h.page;
    await h.call('POST', '/nodes', { parentPath: null, name: 'avw' });
    await h.call('POST', '/nodes', { parentPath: 'avw', name: 'shop' });
    await h.call('POST', '/nodes', { parentPath: 'avw.shop', name: 'web' });
    await h.call('PUT', `/services/${SVC}`, { ports: [{ name: 'http', port: 8080 }] });
    for (const i of [1, 2, 3]) {
      await h.call('POST', '/machines', { hostname: `avw-web-${i}`, ips: [`198.18.203.${i}`], nodes: [SVC], status: 'online' });
      await h.call('PUT', `/services/${SVC}/instances/avw-web-${i}/8080`, {});
    }
    const edge = await h.call('POST', '/machines', { hostname: 'avw-edge', ips: ['198.18.203.10'], status: 'online' });
    const s = (backend: string, statuses: Record<string, number>, runs?: AccessSeries['runs']): AccessSeries => ({ domain: 'shop.test', location: '/', service: SVC, backend, statuses, latency: [0, 0, 10, 5], ...(runs ? { runs } : {}) });
    await h.services.availability.take({ machineId: edge.id }, {
      seq: 1, source: 'e2e', from: Date.now() - 5000, to: Date.now(),
      series: [s('', { '200': 190, '500': 10 }), s('198.18.203.1:8080', { '200': 100 }), s('198.18.203.2:8080', { '200': 90 }), s('198.18.203.3:8080', { '500': 10 }, { lead: 10, longest: 10, trail: 10 })],
    });
    await h.signIn('admin', ADMIN_PASSWORD);
  });

  after(async () => {
    await h?.close();
  });

  test('shows availability, the burning budget and the ejected backend', async () => {
    await page.goto(`${h.base}/nodes/${SVC}?tab=availability`);
    await page.getByTestId('availability-figure').getByText('95.000%').waitFor();
    await page.getByText(/Error budget burning 50\.0× too fast \(14\.4x-1h-5m, page\)/).waitFor();
    const ejected = page.getByTestId('availability-backends').locator('.ant-table-row').filter({ hasText: 'avw-web-3' });
    await ejected.getByText(/ejected until/).waitFor();
    const fine = page.getByTestId('availability-backends').locator('.ant-table-row').filter({ hasText: 'avw-web-1' });
    await fine.getByText('in service').waitFor();
    const history = page.getByTestId('availability-ejections').locator('.ant-table-row').filter({ hasText: 'avw-web-3' });
    await history.getByText('consecutive-5xx').waitFor();
    await history.getByText('still ejected').waitFor();
    assert.deepEqual(h.pageErrors, []);
  });

  test('the SLO is changed from the tab', async () => {
    await page.goto(`${h.base}/nodes/${SVC}?tab=availability`);
    await page.getByRole('button', { name: 'SLO and ejection' }).click();
    const dialog = page.getByRole('dialog', { name: 'SLO and automatic ejection' });
    await dialog.getByLabel('SLO target (%)').fill('99.5');
    await h.submit(dialog, 'Save');
    await page.getByTestId('availability-slo').getByText('SLO 99.500% over 28 d').waitFor();
    assert.equal((await h.call('GET', `/monitor/availability/services/${SVC}/settings`)).settings.slo.target, 0.995);
    assert.deepEqual(h.pageErrors, []);
  });
});
