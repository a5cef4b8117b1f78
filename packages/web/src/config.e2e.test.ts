/**
 * The Config tab in a real browser against a real server: headless Chromium drives the built
 * console served by Canopy (over a PGlite test database). Setup — the classes catalog, nodes, a
 * machine, an ancestor's configuration — goes through the API; associating classes, saving, the
 * effective result, the ENC preview, a save conflict and install requests go through the UI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_PASSWORD } from '../../server/src/testing/index.ts';
import { ROOT, chromiumMissing, startConsoleE2E, type ConsoleE2E } from './e2e-harness.test-util.ts';

const OUT = join(ROOT, '.cache/web-e2e-config');
const SCREENSHOT = '/tmp/canopy-config.png';
// What the Puppet code base publishes; JSON so that nginx's parameters are listed.
const CATALOG = JSON.stringify([{ name: 'nginx', parameters: ['worker_processes', 'listen_port'] }, 'profile::base', 'ntp']);

describe('Config tab in Chromium', { skip: chromiumMissing }, () => {
  let h: ConsoleE2E;
  let page: ConsoleE2E['page'];
  let base: string;
  let pageErrors: string[] = [];

  /** Call the API directly as admin, for setup and for changes made behind the page's back. */
  const call: ConsoleE2E['call'] = (...args) => h.call(...args);

  before(async () => {
    h = await startConsoleE2E(OUT);
    ({ page, base, pageErrors } = h);
    await call('PUT', '/puppet/classes', CATALOG, 'text/plain');
    await call('POST', '/nodes', { parentPath: null, name: 'shop' });
    await call('POST', '/nodes', { parentPath: 'shop', name: 'web' });
    await call('POST', '/machines', { hostname: 'web-01.example.net', ips: ['10.0.0.11'], zone: 'az1', nodes: ['shop.web'] });
    await call('PUT', '/nodes/shop/puppet', { classes: { 'profile::base': {} }, parameters: { ntp_server: 'pool.ntp.org' } });
  });

  after(() => h?.close());

  /** Screenshot the whole page: the console scrolls inside its content pane, so grow the window to fit it. */
  async function shoot(path: string): Promise<void> {
    const height = await page.evaluate(() => (document.querySelector('.ant-layout-content')?.scrollHeight ?? 0) + 60);
    await page.setViewportSize({ width: 1400, height: Math.max(900, height) });
    await page.screenshot({ path });
    await page.setViewportSize({ width: 1400, height: 900 });
  }

  const effective = () => page.getByTestId('effective-table');
  const effectiveRow = (what: string, name: string) => effective().locator('.ant-table-row').filter({ hasText: what }).filter({ hasText: name });
  const option = (text: string | RegExp) => page.locator('.ant-select-item-option:visible').filter({ hasText: text });

  test('shows what the node inherits, with the ancestor it comes from', async () => {
    await page.goto(`${base}/`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Welcome, Administrator').waitFor();
    await page.goto(`${base}/nodes/shop.web?tab=config`);
    await page.getByText('nothing stored here: all inherited').waitFor();
    assert.equal(await page.getByRole('radio', { name: 'Inherit from ancestors' }).isChecked(), true);
    await effectiveRow('class', 'profile::base').getByRole('link', { name: 'shop' }).waitFor();
    await effectiveRow('parameter', 'ntp_server').getByText('"pool.ntp.org"').waitFor();
  });

  test('associates a class with a typed parameter, saves, and shows the effective result', async () => {
    await page.getByText('Own classes').click();
    // Own classes start from the inherited set.
    await page.getByTestId('class-profile::base').waitFor();
    await page.getByRole('combobox', { name: 'Add a class' }).click();
    await page.getByRole('combobox', { name: 'Add a class' }).fill('ngi');
    await option(/^nginx$/).click();
    const nginx = page.getByTestId('class-nginx');
    await nginx.getByRole('button', { name: 'Add parameter' }).click();
    // The parameter name is suggested from the catalog's list for nginx.
    await nginx.getByRole('combobox', { name: 'nginx parameter 1 name' }).fill('work');
    await option('worker_processes').click();
    await nginx.getByRole('combobox', { name: 'nginx parameter 1 type' }).click();
    await option('JSON').click();
    await nginx.getByRole('textbox', { name: 'nginx parameter 1 value' }).fill('4');
    await page.getByRole('button', { name: 'Add parameter' }).last().click();
    await page.getByRole('combobox', { name: 'Parameter 1 name', exact: true }).fill('motd');
    await page.getByRole('textbox', { name: 'Parameter 1 value', exact: true }).fill('managed: by canopy');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(/saved by admin/).waitFor();

    await effectiveRow('class', 'nginx').getByText('this node').waitFor();
    const param = effectiveRow('class parameter', 'worker_processes');
    assert.equal(await param.locator('td').nth(2).textContent(), '4', 'a JSON-typed 4 is the number 4');
    await effectiveRow('parameter', 'motd').getByText('"managed: by canopy"').waitFor();
    await effectiveRow('parameter', 'ntp_server').getByRole('link', { name: 'shop' }).waitFor();
    const stored = await call('GET', '/nodes/shop.web/puppet');
    assert.deepEqual(stored.own.classes, { nginx: { worker_processes: 4 }, 'profile::base': {} });
  });

  test('previews the ENC YAML and its explanation for a machine under the node', async () => {
    const yaml = page.getByTestId('enc-yaml');
    await yaml.getByText(/"nginx":/).waitFor();
    const text = (await yaml.textContent()) ?? '';
    assert.match(text, /^ {2}"nginx":\n {4}"worker_processes": 4$/m);
    assert.match(text, /^ {2}"profile::base": \{\}$/m);
    assert.match(text, /"canopy_node": "shop\.web"/);
    assert.match(text, /"motd": "managed: by canopy"/);
    assert.match((await page.getByTestId('enc-explain').textContent()) ?? '', /host web-01\.example\.net: single-node/);
    await shoot(SCREENSHOT);
  });

  test('refuses to overwrite a change made meanwhile, saying who made it', async () => {
    await call('PUT', '/nodes/shop.web/puppet', { classes: { nginx: { worker_processes: 8 } }, environment: 'staging' });
    await page.getByRole('textbox', { name: 'Environment' }).fill('canary');
    await page.getByRole('button', { name: 'Save' }).click();
    const conflict = page.getByTestId('config-conflict');
    await conflict.getByText(/admin changed it/).waitFor();
    await shoot(SCREENSHOT.replace('.png', '-conflict.png'));
    await conflict.getByRole('button', { name: 'Load their version' }).click();
    await conflict.waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('textbox', { name: 'Environment' }).inputValue(), 'staging');
    await effectiveRow('environment', 'staging').waitFor();
  });

  test('requests an install, and previews the ENC answer of the host being installed', async () => {
    await page.getByRole('button', { name: 'Request install' }).click();
    const dialog = page.getByRole('dialog', { name: 'Request an install' });
    await dialog.getByLabel('Hostname').fill('web-09.example.net');
    await h.submit(dialog, 'Request');
    await page.locator('.ant-table-row').filter({ hasText: 'web-09.example.net' }).waitFor();
    await page.getByRole('combobox', { name: 'Preview host' }).click();
    await option('web-09.example.net (being installed)').click();
    await page.getByTestId('enc-explain').getByText(/host web-09\.example\.net: provisioning/).waitFor();
  });

  test("puts the server's refusal of a parameter the catalog does not list on that parameter", async () => {
    const nginx = page.getByTestId('class-nginx');
    await nginx.getByRole('button', { name: 'Add parameter' }).click();
    await nginx.getByRole('combobox', { name: 'nginx parameter 2 name' }).fill('bogus');
    await nginx.getByRole('textbox', { name: 'nginx parameter 2 value' }).fill('x');
    await page.getByRole('button', { name: 'Save' }).click();
    await nginx.locator('.ant-form-item-explain-error').getByText("class 'nginx' has no parameter 'bogus' in the catalog").waitFor();
    await page.getByRole('button', { name: 'Discard changes' }).click();
    await nginx.getByRole('combobox', { name: 'nginx parameter 2 name' }).waitFor({ state: 'detached' });
  });

  test('shows superusers the catalog status and edits the default classes', async () => {
    await page.getByText('Puppet catalog and default classes').click();
    const status = page.getByTestId('catalog-status');
    await status.getByText('uploaded through the API').waitFor();
    assert.match((await status.textContent()) ?? '', /Classes3/);
    const defaults = page.getByTestId('puppet-defaults');
    await defaults.getByRole('combobox', { name: 'Add a class' }).click();
    await option(/^ntp$/).click();
    await defaults.getByRole('button', { name: 'Save default classes' }).click();
    await page.getByText('Saved the default classes').waitFor();
    assert.deepEqual((await call('GET', '/puppet/defaults')).classes, { ntp: {} });
    // The panel opens with an animation; shoot once it has settled.
    await page.waitForFunction(() => !document.querySelector('.ant-motion-collapse'));
    await shoot(SCREENSHOT.replace('.png', '-settings.png'));
  });

  test('a provenance link opens the ancestor it names', async () => {
    await effectiveRow('parameter', 'ntp_server').getByRole('link', { name: 'shop' }).click();
    await page.waitForURL(/\/nodes\/shop\?tab=config$/);
    await page.getByTestId('class-profile::base').waitFor();
    assert.deepEqual(pageErrors, []);
  });
});
