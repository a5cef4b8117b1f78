/**
 * The Discovery tab in a real browser against a real server: headless Chromium drives the built
 * console served by Canopy (over a PGlite test database). Setup goes through the API; what is under
 * test — instances, drain, weight, live updates over the SSE watch, registration, aliases, the
 * dependency graph and making a node a service — goes through the UI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_PASSWORD } from '../../server/src/testing/index.ts';
import { ROOT, chromiumMissing, startConsoleE2E, type ConsoleE2E } from './e2e-harness.test-util.ts';

const OUT = join(ROOT, '.cache/web-e2e-discovery');
const SCREENSHOT = '/tmp/canopy-discovery.png';

describe('Discovery tab in Chromium', { skip: chromiumMissing }, () => {
  let h: ConsoleE2E;
  let services: ConsoleE2E['services'];
  let page: ConsoleE2E['page'];
  let base: string;
  let pageErrors: string[] = [];

  /** Call the API directly as admin, for setup and for changes the page must pick up by itself. */
  const call: ConsoleE2E['call'] = (...args) => h.call(...args);

  async function seed(): Promise<void> {
    for (const [parentPath, name] of [[null, 'shop'], ['shop', 'api'], ['shop', 'front'], ['shop', 'db'], ['shop', 'batch'], ['shop', 'new']] as const) {
      await call('POST', '/nodes', { parentPath, name });
    }
    const machine = (hostname: string, ip: string, zone: string, node: string) => call('POST', '/machines', { hostname, ips: [ip], zone, nodes: [node], status: 'online' });
    await machine('api-01.example', '10.1.0.11', 'az1', 'shop.api');
    await machine('api-02.example', '10.1.0.12', 'az2', 'shop.api');
    await machine('db-01.example', '10.1.0.31', 'az1', 'shop.db');
    for (const p of ['shop.api', 'shop.front', 'shop.db']) await call('PUT', `/services/${p}`, { ports: [{ name: 'http', port: 8080 }] });
    await call('PUT', '/services/shop.api/instances/api-01.example/8080', {});
    await call('PUT', '/services/shop.front/dependencies', { services: ['shop.api'] });
    await call('PUT', '/services/shop.api/dependencies', { services: ['shop.db'] });
    // An observed edge: shop.batch looks shop.api up three times (not declared anywhere).
    for (let i = 0; i < 3; i++) await call('GET', '/services/shop.api/instances?caller=shop.batch');
  }

  before(async () => {
    h = await startConsoleE2E(OUT);
    ({ services, page, base, pageErrors } = h);
    await seed();
  });

  after(() => h?.close());

  const row = (host: string) => page.locator('.ant-table-row').filter({ hasText: host });
  const status = (key: string) => page.getByTestId(`status-${key}`);
  const health = (key: string) => page.getByTestId(`health-${key}`);

  test('shows the service and its instance with health, weight, zone and status, live', async () => {
    await page.goto(`${base}/`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Welcome, Administrator').waitFor();
    await page.goto(`${base}/nodes/shop.api?tab=discovery`);
    await page.getByText('Weighted round robin').waitFor();
    await row('api-01.example').getByText('10.1.0.11:8080').waitFor();
    assert.equal(await health('api-01.example:8080').textContent(), 'passing');
    assert.equal(await status('api-01.example:8080').textContent(), 'up');
    assert.equal(await row('api-01.example').getByText('az1').count(), 1);
    await page.getByTestId('feed-state').getByText('live').waitFor();
  });

  test('drains from the table, and shows changes made elsewhere without a reload', async () => {
    await row('api-01.example').getByRole('button', { name: /\bDrain$/ }).click();
    await status('api-01.example:8080').getByText('draining').waitFor();
    assert.equal((await call('GET', '/services/shop.api/instances/api-01.example/8080')).status, 'draining');
    await row('api-01.example').getByRole('button', { name: /Undrain/ }).waitFor();

    // Another operator undrains, then the instance fails a check: both arrive over the watch.
    await call('PUT', '/services/shop.api/instances/api-01.example/8080', { status: 'up' });
    await status('api-01.example:8080').getByText('up').waitFor();
    await call('PUT', '/services/shop.api/instances/api-01.example/8080/heartbeat', { status: 'fail' });
    await health('api-01.example:8080').getByText('critical').waitFor();
    await page.getByTestId('serving-count').getByText('0 of 1 registered').waitFor();
    await call('PUT', '/services/shop.api/instances/api-01.example/8080/heartbeat', { status: 'pass' });
    await health('api-01.example:8080').getByText('passing').waitFor();
  });

  test('edits a weight in place', async () => {
    const weight = page.getByLabel('Weight of api-01.example:8080');
    await weight.fill('5');
    await weight.press('Enter');
    await page.getByText('Weight of api-01.example:8080 is now 5').waitFor();
    assert.equal((await call('GET', '/services/shop.api/instances/api-01.example/8080')).weight, 5);
    assert.equal(await weight.inputValue(), '5');
  });

  test('registers a machine bound to the node as a new instance', async () => {
    await page.getByRole('button', { name: /Register instance/ }).click();
    const dialog = page.getByRole('dialog', { name: /Register an instance/ });
    await dialog.getByRole('combobox', { name: /Machine/ }).click();
    await page.locator('.ant-select-item-option').filter({ hasText: 'api-02.example' }).click();
    await h.submit(dialog, 'Register');
    await row('api-02.example').getByText('10.1.0.12:8080').waitFor();
    assert.equal(await row('api-02.example').getByText('az2').count(), 1);
  });

  test('draws the dependency graph: callees left, callers right, call counts on edges', async () => {
    const svg = page.getByRole('img', { name: 'Dependency graph' });
    await svg.waitFor();
    const nodes = svg.getByTestId('graph-node');
    await nodes.filter({ hasText: 'shop.batch' }).waitFor();
    const x = async (path: string) => Number(await svg.locator(`[data-path="${path}"] rect`).getAttribute('x'));
    const labels = await nodes.locator('text').allTextContents();
    assert.deepEqual([...labels].sort(), ['shop.api', 'shop.batch', 'shop.db', 'shop.front']);
    assert.ok((await x('shop.db')) < (await x('shop.api')) && (await x('shop.api')) < (await x('shop.front')), 'upstream left, service middle, downstream right');
    await svg.locator('[data-from="shop.batch"][data-to="shop.api"]').getByText('3 calls').waitFor();
    await svg.locator('[data-from="shop.front"][data-to="shop.api"]').getByText('declared').waitFor();
  });

  test('points an alias at the service and lists it', async () => {
    await page.getByRole('button', { name: /Point an alias here/ }).click();
    const dialog = page.getByRole('dialog', { name: /Point an alias/ });
    await dialog.getByLabel('Alias path').fill('shop.live');
    assert.equal(await dialog.getByLabel('Target service').inputValue(), 'shop.api');
    await h.submit(dialog, 'Save alias');
    await page.locator('.ant-table-row').filter({ hasText: 'shop.live' }).getByText('shop.api').waitFor();
    assert.equal((await call('GET', '/services/shop.live/instances')).service, 'shop.api');
  });

  test('leaves a screenshot of the whole tab', async () => {
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    await page.waitForFunction(() => document.querySelector('.ant-message-notice') === null);
    // The console scrolls inside its layout, so a tall viewport is what captures the whole tab.
    await page.setViewportSize({ width: 1400, height: 1300 });
    await page.screenshot({ path: SCREENSHOT });
    await page.setViewportSize({ width: 1400, height: 900 });
  });

  test('makes a plain node a service from its Discovery tab', async () => {
    await page.goto(`${base}/nodes/shop.new?tab=discovery`);
    await page.getByRole('button', { name: /Make this node a service/ }).click();
    const dialog = page.getByRole('dialog', { name: /Make shop.new a service/ });
    await dialog.getByLabel('Port 1 number').fill('9090');
    await h.submit(dialog, 'Create service');
    await page.getByRole('button', { name: /Edit settings/ }).waitFor();
    assert.deepEqual((await call('GET', '/services/shop.new')).ports, [{ name: 'http', port: 9090 }]);
    await page.getByText('No instances registered yet').waitFor();
    assert.deepEqual(pageErrors, []);
  });
});
