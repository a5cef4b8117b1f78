/**
 * The Nginx and LVS tabs in a real browser against a real server: headless Chromium drives the
 * built console served by Canopy (over a PGlite test database), and every config is checked by
 * the real `nginx -t` / `keepalived -t`. Setup (tree, machines, discovery instances, domains) goes
 * through the API; what is under test — service settings with their field errors, making a
 * cluster, plan, apply (and a refused apply), versions published by a backend change, rollback,
 * LVS virtual services and an LVS cluster — goes through the UI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_PASSWORD } from '../../server/src/testing/index.ts';
import { ROOT, chromiumMissing, startConsoleE2E, type ConsoleE2E } from './e2e-harness.test-util.ts';
import { findProgram } from '../../server/src/nginx/nginx-binary.ts';

const OUT = join(ROOT, '.cache/web-e2e-proxy');
const NGINX_SHOT = '/tmp/canopy-nginx.png';
const LVS_SHOT = '/tmp/canopy-lvs.png';

const missing = chromiumMissing
  ? chromiumMissing
  : findProgram('nginx') === null
    ? 'SKIPPED: nginx not installed (apt-get install nginx-light): the Nginx tab applies configs checked by nginx -t'
    : false;
if (missing) console.warn(`\n*** proxy.e2e.test.ts ${missing} ***\n`);
const noKeepalived = findProgram('keepalived') === null ? 'SKIPPED: keepalived not installed (apt-get install keepalived)' : false;

describe('Nginx and LVS tabs in Chromium', { skip: missing }, () => {
  let h: ConsoleE2E;
  let services: ConsoleE2E['services'];
  let page: ConsoleE2E['page'];
  let base: string;
  let pageErrors: string[] = [];

  /** Call the API directly as admin, for setup and for changes the page must pick up by itself. */
  const call: ConsoleE2E['call'] = (...args) => h.call(...args);

  async function seed(): Promise<void> {
    for (const [parentPath, name] of [[null, 'shop'], ['shop', 'web'], ['shop', 'edge'], ['shop', 'lb']] as const) await call('POST', '/nodes', { parentPath, name });
    await call('POST', '/machines', { hostname: 'web-01.example', ips: ['10.2.0.11'], nodes: ['shop.web'], status: 'online' });
    await call('POST', '/machines', { hostname: 'web-02.example', ips: ['10.2.0.12'], nodes: ['shop.web'], status: 'online' });
    await call('PUT', '/services/shop.web', { ports: [{ name: 'http', port: 8080 }] });
    await call('PUT', '/services/shop.web/instances/web-01.example/8080', {});
    await call('PUT', '/services/shop.web/instances/web-02.example/8080', {});
    await call('PUT', '/domains/shop.example.com', { ports: [{ port: 80 }] });
  }

  before(async () => {
    h = await startConsoleE2E(OUT);
    ({ services, page, base, pageErrors } = h);
    await seed();
  });

  after(() => h?.close());

  const dialog = (name: RegExp) => page.getByRole('dialog', { name });
  const pick = async (option: string) => page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: new RegExp(`^${option.replaceAll('.', '\\.')}$`) }).click();
  const published = () => page.getByTestId('published-version');
  const version = (v: string) => page.getByTestId('published-tag').getByText(v, { exact: true });
  const configText = async () => (await page.locator('[data-testid^="config-file-"]').allTextContents()).join('\n');

  test('serves the service through Nginx from its tab, with the server’s field errors under the fields', async () => {
    await page.goto(`${base}/`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Welcome, Administrator').waitFor();
    await page.goto(`${base}/nodes/shop.web?tab=nginx`);
    await page.getByRole('button', { name: /Serve this node through Nginx/ }).click();
    await page.getByLabel('Domain 1').click();
    await pick('shop.example.com');
    await page.getByLabel('URI 1').fill('/shop;{');
    assert.equal(await page.getByLabel('Port').inputValue(), '8080', 'the port comes from the instances');
    await page.getByRole('button', { name: /Serve through Nginx/ }).click();
    await page.locator('.ant-form-item-explain-error').filter({ hasText: "must start with '/'" }).waitFor();
    await page.getByLabel('URI 1').fill('/shop');
    await page.getByRole('button', { name: /Serve through Nginx/ }).click();
    await page.getByText('shop.web is now served through Nginx').waitFor();
    const stored = await call('GET', '/nodes/shop.web/nginx');
    assert.deepEqual(stored.domainUris, [{ domain: 'shop.example.com', uri: '/shop' }]);
    assert.equal(stored.effectiveUpstream, 'shop_web');
    // The servers are the discovery instances, as nginx will weigh them.
    await page.getByTestId('backend-web-01.example').getByText('weight=1').waitFor();
  });

  test('makes a node an Nginx cluster serving the domain, plans and applies version 1', async () => {
    await page.goto(`${base}/nodes/shop.edge?tab=nginx`);
    await page.getByRole('button', { name: /Make this node an Nginx cluster/ }).click();
    const d = dialog(/Make shop.edge an Nginx cluster/);
    await d.getByLabel('Served domains').click();
    await pick('shop.example.com');
    await d.getByLabel('Listen address').fill('127.0.0.1');
    await h.submit(d, 'Make it a cluster');
    await page.getByTestId('cluster-settings').getByText('shop.example.com').waitFor();
    await published().getByText('Nothing published yet').waitFor();

    await page.getByRole('button', { name: /Plan/ }).click();
    await page.locator('.diff-add').filter({ hasText: 'upstream shop_web {' }).first().waitFor();

    await page.getByRole('button', { name: /Apply/ }).click();
    const apply = dialog(/Apply the Nginx config of shop.edge/);
    await apply.getByLabel('Reason').fill('serve /shop');
    await h.submit(apply, 'Apply');
    await version('v1').waitFor();
    await published().getByText('serve /shop').waitFor();
    const text = await configText();
    assert.match(text, /upstream shop_web \{/);
    assert.match(text, /server 10\.2\.0\.11:8080 weight=1/);
    assert.match(text, /location "\/shop"/);
  });

  test('a weight changed elsewhere publishes version 2, which appears by itself and after a reload', async () => {
    await call('PUT', '/services/shop.web/instances/web-01.example/8080', { weight: 5 });
    await version('v2').waitFor();
    await page.reload();
    await version('v2').waitFor();
    assert.match(await configText(), /server 10\.2\.0\.11:8080 weight=5/);
    await page.getByRole('tab', { name: /Versions/ }).click();
    const v2 = page.locator('.ant-table-row').filter({ hasText: 'v2' });
    await v2.getByText('system').waitFor();
    await v2.getByText(/instances changed/).waitFor();
    await v2.locator('.ant-table-row-expand-icon').click();
    await page.locator('.ant-table-expanded-row .diff-add').filter({ hasText: 'weight=5' }).waitFor();
    await page.locator('.ant-table-expanded-row .diff-del').filter({ hasText: 'weight=1' }).waitFor();
  });

  test('an apply nginx -t refuses shows its output and publishes nothing', async () => {
    await page.getByRole('button', { name: /Edit cluster/ }).click();
    const d = dialog(/Nginx cluster shop.edge/);
    // The control center checks certificates with stand-ins, but a log directory it lacks fails nginx -t.
    await d.getByLabel('Log directory').fill('/nonexistent/canopy-logs');
    await h.submit(d, 'Save');
    await page.getByTestId('cluster-settings').getByText('/nonexistent/canopy-logs').waitFor();
    await page.getByRole('button', { name: /Apply/ }).click();
    const apply = dialog(/Apply the Nginx config/);
    await apply.getByLabel('Reason').fill('log elsewhere');
    await h.press(apply, 'Apply');
    const output = apply.getByTestId('program-output');
    await output.getByText(/nginx -t refused the config: nothing was published/).waitFor();
    assert.match((await output.textContent()) ?? '', /\/nonexistent\/canopy-logs\//);
    await apply.screenshot({ path: NGINX_SHOT.replace('.png', '-refused.png') });
    await h.press(apply, 'Cancel');
    await apply.waitFor({ state: 'hidden' });
    assert.equal((await call('GET', '/nginx/clusters/shop.edge/config')).version, 2);
    await call('PUT', '/nginx/clusters/shop.edge', { domains: ['shop.example.com'], listenAddress: '127.0.0.1' });
  });

  test('applies a settings change as version 3 and rolls back to version 2 as version 4', async () => {
    await call('PUT', '/nodes/shop.web/nginx', { domainUris: [{ domain: 'shop.example.com', uri: '/shop' }], port: 8080, balance: { method: 'least_conn' } });
    await page.reload();
    // The domain shows its owner (none: the admin made it); the plan says whose change each part is.
    await page.getByTestId('owner-shop.example.com').getByText('no owner (superusers only)').waitFor();
    await page.getByRole('button', { name: /Plan/ }).click();
    await page.getByTestId('plan-origin').filter({ hasText: 'service shop.web changed by admin' }).locator('.diff-add').filter({ hasText: 'least_conn;' }).waitFor();
    await page.getByRole('button', { name: /Apply/ }).click();
    const apply = dialog(/Apply the Nginx config/);
    await apply.getByLabel('Reason').fill('least connections');
    await h.submit(apply, 'Apply');
    await version('v3').waitFor();
    assert.match(await configText(), /least_conn;/);

    await page.getByRole('tab', { name: /Versions/ }).click();
    await page.getByRole('button', { name: 'Roll back to v2' }).click();
    await h.confirm('Roll back');
    await version('v4').waitFor();
    await page.locator('.ant-table-row').filter({ hasText: 'v4' }).getByText('rollback of v2').waitFor();
    await page.getByRole('tab', { name: /Rendered config/ }).click();
    const text = await configText();
    assert.doesNotMatch(text, /least_conn/);
    assert.match(text, /weight=5/, 'rolled back settings, rendered with today’s instances');
  });

  test('leaves a screenshot of the Nginx tab', async () => {
    await page.goto(`${base}/nodes/shop.edge?tab=nginx`);
    await version('v4').waitFor();
    await page.getByRole('button', { name: /Plan/ }).click();
    // The rollback set the settings back to v2's as well: the plan has nothing left to publish.
    await page.getByText('no changes', { exact: true }).waitFor();
    await page.waitForFunction(() => document.querySelector('.ant-message-notice') === null);
    await page.setViewportSize({ width: 1400, height: 1900 });
    await page.screenshot({ path: NGINX_SHOT });
    await page.goto(`${base}/nodes/shop.web?tab=nginx`);
    await page.getByTestId('backend-web-01.example').waitFor();
    await page.screenshot({ path: NGINX_SHOT.replace('.png', '-service.png') });
    await page.setViewportSize({ width: 1400, height: 900 });
  });

  test('adds an LVS virtual service, with the server’s rule shown under the field it concerns', async () => {
    await page.goto(`${base}/nodes/shop.web?tab=lvs`);
    await page.getByRole('button', { name: /Add a virtual service/ }).click();
    const d = dialog(/New virtual service/);
    await d.getByLabel('VIP').fill('10.9.0.1');
    await d.getByLabel('Port', { exact: true }).fill('80');
    await d.getByLabel('Real port').fill('8080');
    await h.press(d, 'Add');
    await d.locator('.ant-form-item-explain-error').filter({ hasText: 'DR forwarding keeps the port' }).waitFor();
    await d.getByLabel('Forwarding').click();
    await pick('NAT');
    await h.submit(d, 'Add');
    await page.locator('.ant-table-row').filter({ hasText: '10.9.0.1:80/TCP' }).getByText('NAT').waitFor();
    assert.equal((await call('GET', '/nodes/shop.web/lvs')).virtualServices[0].realPort, 8080);
    await page.getByTestId('backend-web-01.example').getByText('weight 5').waitFor();
    await page.waitForFunction(() => document.querySelector('.ant-message-notice') === null);
    await page.setViewportSize({ width: 1400, height: 1200 });
    await page.screenshot({ path: LVS_SHOT.replace('.png', '-service.png') });
    await page.setViewportSize({ width: 1400, height: 900 });
  });

  test('makes a node an LVS cluster and applies its keepalived config', { skip: noKeepalived }, async () => {
    await page.goto(`${base}/nodes/shop.lb?tab=lvs`);
    await page.getByRole('button', { name: /Make this node an LVS cluster/ }).click();
    const d = dialog(/Make shop.lb an LVS cluster/);
    await d.getByLabel('Balanced services').fill('shop.web');
    await d.getByLabel('Balanced services').press('Enter');
    await h.submit(d, 'Make it a cluster');
    await page.getByTestId('cluster-settings').getByText('shop.web').waitFor();
    await page.getByRole('button', { name: /Apply/ }).click();
    const apply = dialog(/Apply the LVS config of shop.lb/);
    await apply.getByLabel('Reason').fill('first directors config');
    await h.submit(apply, 'Apply');
    await version('v1').waitFor();
    const text = await configText();
    assert.match(text, /virtual_server 10\.9\.0\.1 80/);
    assert.match(text, /real_server 10\.2\.0\.11 8080/);
    await page.waitForFunction(() => document.querySelector('.ant-message-notice') === null);
    await page.setViewportSize({ width: 1400, height: 1500 });
    await page.screenshot({ path: LVS_SHOT });
    await page.setViewportSize({ width: 1400, height: 900 });
    assert.deepEqual(pageErrors, []);
  });
});
