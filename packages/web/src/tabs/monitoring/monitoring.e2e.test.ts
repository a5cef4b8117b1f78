/**
 * The Monitoring tab in Chromium: the rules in force with where each comes from, a firing alert the
 * operator acknowledges from the tab (the server holds the acknowledgement), a silence made there,
 * and a rule written with the form (its JSON view showing the same rule).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_PASSWORD } from '../../../../server/src/testing/index.ts';
import { ROOT, chromiumMissing, startConsoleE2E, type ConsoleE2E } from '../../e2e-harness.test-util.ts';

const OUT = join(ROOT, '.cache/web-e2e-monitoring');

describe('the Monitoring tab in Chromium', { skip: chromiumMissing }, () => {
  let h: ConsoleE2E;
  let page: ConsoleE2E['page'];

  before(async () => {
    h = await startConsoleE2E(OUT);
    page = h.page;
    await h.call('POST', '/nodes', { parentPath: null, name: 'mw' });
    await h.call('POST', '/nodes', { parentPath: 'mw', name: 'db' });
    const disk = (threshold: number) => ({ conditions: [{ metric: 'disk_used_percent', fn: 'all(#1)', op: '>', threshold }], severity: 'critical' });
    await h.call('PUT', '/nodes/mw/alert-rules/disk', disk(90));
    await h.call('PUT', '/nodes/mw/alert-rules/load', { conditions: [{ metric: 'node_load1', fn: 'avg(#3)', op: '>', threshold: 8 }] });
    await h.call('PUT', '/nodes/mw.db/alert-rules/disk', disk(95));
    const m = await h.call('POST', '/machines', { hostname: 'mw-db-1', nodes: ['mw.db'], status: 'online' });
    await h.services.monitor.push(m.id, { gen: 1, defs: ['disk_used_percent{mountpoint="/"}'], samples: [{ at: Date.now() - 1000, v: [97] }] });
    await h.services.alerts.evaluator.evaluate([m.id]);
    await h.signIn('admin', ADMIN_PASSWORD);
  });

  after(async () => {
    await h?.close();
  });

  test('shows effective rules with their origin and the firing alert; Ack and Silence work from the tab', async () => {
    await page.goto(`${h.base}/nodes/mw.db?tab=monitoring`);
    const rules = page.getByTestId('alert-rules');
    await rules.locator('.ant-table-row').filter({ hasText: 'disk' }).getByText('set here, overrides mw').waitFor();
    await rules.locator('.ant-table-row').filter({ hasText: 'load' }).getByText('from mw').waitFor();
    const row = page.getByTestId('active-alerts').locator('.ant-table-row').filter({ hasText: 'mw-db-1' });
    await row.getByText('firing').waitFor();
    await row.getByRole('button', { name: 'Ack' }).click();
    await row.getByText('ack admin').waitFor();
    const items = (await h.call('GET', '/monitor/alerts?under=mw')).items as { ackedBy: string | null }[];
    assert.deepEqual(items.map((a) => a.ackedBy), ['admin']);

    await row.getByRole('button', { name: 'Silence' }).click();
    await page.getByLabel('Comment').fill('disk swap');
    await page.getByRole('button', { name: 'Silence', exact: true }).last().click();
    await page.getByTestId('silences').getByText('disk swap').waitFor();
    await row.getByText('silenced').waitFor();
    assert.deepEqual(h.pageErrors, []);
  });

  test('a new rule is written with the form; a bad label filter is refused there; the JSON view shows the same rule', async () => {
    await page.goto(`${h.base}/nodes/mw.db?tab=monitoring`);
    await page.getByRole('button', { name: 'New rule' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Rule name').fill('memory');
    await dialog.getByLabel('Metric 1').fill('node_memory_MemAvailable_bytes');
    await dialog.getByLabel('Function 1').fill('avg(#3)');
    await dialog.getByLabel('Threshold 1').fill('1000000');
    await dialog.getByRole('button', { name: 'Add a condition (AND)' }).click();
    await dialog.getByLabel('Metric 2').fill('node_load1');
    await dialog.getByLabel('Labels 2').fill('oops');
    await dialog.getByLabel('Threshold 2').fill('4');
    await dialog.getByText('critical', { exact: true }).click();
    await dialog.getByLabel('Summary').fill('low memory on {{machines}}');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.getByText('condition 2: labels: "oops" is not label=value').waitFor();
    await dialog.getByLabel('Labels 2').fill('');
    await dialog.getByText('JSON (every field)').click();
    const json = JSON.parse(await dialog.getByLabel('Rule JSON').inputValue());
    assert.deepEqual(json.conditions.map((c: { metric: string; op: string; threshold: number }) => [c.metric, c.op, c.threshold]), [['node_memory_MemAvailable_bytes', '>', 1_000_000], ['node_load1', '>', 4]]);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('alert-rules').locator('.ant-table-row').filter({ hasText: 'memory' }).getByText('set here').waitFor();
    const saved = (await h.call('GET', '/nodes/mw.db/alert-rules')).own.find((r: { name: string }) => r.name === 'memory');
    assert.deepEqual([saved.severity, saved.summary, saved.conditions[0].fn, saved.conditions.length], ['critical', 'low memory on {{machines}}', 'avg(#3)', 2]);
    assert.deepEqual(h.pageErrors, []);
  });
});
