/**
 * The Dashboard tab in Chromium: machine counts, the subtree's panels drawn by ECharts (loaded as
 * its own chunk on first use), the top-N tables, and one machine's panels after clicking it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_PASSWORD } from '../../../../server/src/testing/index.ts';
import { ROOT, chromiumMissing, startConsoleE2E, type ConsoleE2E } from '../../e2e-harness.test-util.ts';

const OUT = join(ROOT, '.cache/web-e2e-dashboard');

describe('Dashboard tab in Chromium', { skip: chromiumMissing }, () => {
  let h: ConsoleE2E;

  before(async () => {
    h = await startConsoleE2E(OUT);
    await h.call('POST', '/nodes', { parentPath: null, name: 'dash' });
    const defs = ['node_cpu_seconds_total{cpu="0",mode="idle"}', 'node_cpu_seconds_total{cpu="0",mode="user"}', 'node_memory_MemTotal_bytes', 'node_memory_MemAvailable_bytes', 'node_load1'];
    const end = Math.floor(Date.now() / 10_000) * 10_000 - 5_000;
    for (const [i, busy] of [0.3, 0.9].entries()) {
      const m = await h.call('POST', '/machines', { hostname: `dash-${i + 1}.example`, status: 'online', nodes: ['dash'] });
      const samples = Array.from({ length: 12 }, (_, k) => ({ at: end - (11 - k) * 10_000, v: [k * 10 * (1 - busy), k * 10 * busy, 1000, 400 - i * 200, busy] }));
      await h.services.monitor.push(m.id, { gen: 1, defs, samples });
    }
  });
  after(() => h?.close());

  test('shows the counts, draws every panel, and narrows to a machine picked in the top list', async () => {
    const { page, base } = h;
    const chunks: string[] = [];
    page.on('response', (r) => r.url().endsWith('.js') && chunks.push(r.url()));
    await page.goto(`${base}/`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Welcome, Administrator').waitFor();
    const before = chunks.length;
    await page.goto(`${base}/nodes/dash?tab=dashboard`);
    await page.getByTestId('by-status').getByText('online 2').waitFor();
    // ECharts draws into a canvas once its chunk has loaded.
    await page.getByTestId('chart-instance:node_cpu_utilisation:rate1m').locator('canvas').waitFor();
    await page.getByTestId('chart-instance:node_memory_utilisation:ratio').locator('canvas').waitFor();
    // The tab is in the main bundle; what loads now is the charting chunk.
    assert.ok(chunks.length > before, `no script was loaded for the charts: ${chunks.join(', ')}`);
    const topCpu = page.getByTestId('top-instance:node_cpu_utilisation:rate1m');
    await topCpu.getByText('dash-2.example').waitFor();
    const rows = await topCpu.locator('.ant-table-row').allInnerTexts();
    assert.match(rows[0] ?? '', /dash-2\.example\s+90%/);
    await topCpu.getByText('dash-2.example').click();
    await page.getByText('machine dash-2.example').waitFor();
    await page.getByTestId('chart-instance:node_cpu_utilisation:rate1m').locator('canvas').waitFor();
    const weekly = page.waitForResponse((r) => r.url().includes('/api/v1/monitor/query') && r.url().includes('from=-7d') && r.url().includes('machine=dash-2.example') && r.status() === 200);
    await page.locator('.ant-segmented-item').filter({ hasText: /^7d$/ }).click();
    await weekly;
    await page.getByTestId('chart-instance:node_cpu_utilisation:rate1m').locator('canvas').waitFor();
    assert.deepEqual(h.pageErrors, []);
  });
});
