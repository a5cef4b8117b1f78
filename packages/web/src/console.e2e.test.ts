/**
 * The console in a real browser against a real server: headless Chromium drives the built app
 * served by Canopy itself (over a PGlite test database) through login, tree, machines and audit.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_PASSWORD } from '../../server/src/testing/index.ts';
import { ROOT, chromiumMissing, startConsoleE2E, type ConsoleE2E } from './e2e-harness.test-util.ts';

const DIST = join(ROOT, 'packages/web/dist');
const SCREENSHOT = '/tmp/canopy-console.png';

describe('web console in Chromium', { skip: chromiumMissing }, () => {
  let h: ConsoleE2E;
  let app: ConsoleE2E['app'];
  let page: ConsoleE2E['page'];
  let base: string;
  let pageErrors: string[] = [];

  /** Call the API directly as admin, for setup that is not under test. */
  const apiAsAdmin = (method: 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown) => h.call(method, url.replace(/^\/api\/v1/, ''), body);

  before(async () => {
    h = await startConsoleE2E(DIST, { width: 1400, height: 860 });
    ({ app, page, base, pageErrors } = h);
    // The console must load before anyone has logged in; say so plainly instead of timing out in the browser.
    for (const url of ['/', '/nodes/some.deep.path']) {
      const res = await fetch(`${base}${url}`);
      assert.equal(res.status, 200, `GET ${url} without a session answered ${res.status}: the server must serve the console's files publicly (packages/server/src/http/app.ts)`);
      assert.match(await res.text(), /<div id="root">/);
    }
  });

  after(() => h?.close());

  test('logs in as admin and lands on the console with the user in the top bar', async () => {
    await page.goto(`${base}/`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('wrong username or password').waitFor();
    await page.screenshot({ path: SCREENSHOT.replace('.png', '-login.png') });
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Welcome, Administrator').waitFor();
    assert.equal(await page.getByTestId('current-user').textContent(), 'Administrator');
  });

  test('creates a root node and a child node from the side bar', async () => {
    await page.getByRole('button', { name: /New root/ }).click();
    const rootDialog = page.getByRole('dialog', { name: 'New root node' });
    await rootDialog.getByLabel('Name').fill('shop');
    await rootDialog.getByLabel('Description').fill('the web shop');
    await h.submit(rootDialog, 'Create');
    await page.waitForURL(`${base}/nodes/shop`);
    await page.getByTestId('node-title').getByText('shop').waitFor();

    await page.getByRole('button', { name: /New child/ }).click();
    const childDialog = page.getByRole('dialog', { name: 'New child node' });
    await childDialog.getByLabel('Name').fill('Bad Name');
    await h.press(childDialog, 'Create');
    // The server's field issue shows under the field it names.
    await childDialog.getByText('must be a DNS label').waitFor();
    await childDialog.getByLabel('Name').fill('web');
    await h.submit(childDialog, 'Create');
    await page.waitForURL(`${base}/nodes/shop.web`);
    await page.locator('.ant-tree').getByText('web', { exact: true }).waitFor();
  });

  test('adds a machine and binds an existing one in the Machines tab, surviving a reload', async () => {
    await apiAsAdmin('POST', '/api/v1/machines', { hostname: 'db-01.example.net', ips: ['10.0.0.21'], nodes: [] });
    await page.getByRole('tab', { name: /Machines/ }).click();
    await page.getByRole('button', { name: /Add machine/ }).click();
    const add = page.getByRole('dialog', { name: /Add a machine/ });
    await add.getByLabel('Hostname').fill('web-01.example.net');
    await add.getByLabel('IP addresses').fill('10.0.0.11, 10.0.1.11');
    await add.getByLabel('Zone').fill('az1');
    await h.submit(add, 'Add');
    await page.locator('.ant-table').getByText('web-01.example.net').waitFor();

    // A reload keeps the session and its CSRF token: the next write still works.
    await page.reload();
    await page.getByRole('button', { name: /Bind existing/ }).click();
    const bind = page.getByRole('dialog', { name: /Bind a machine/ });
    await bind.getByLabel('Hostname').fill('db-01.example.net');
    await h.submit(bind, 'Bind');
    await page.locator('.ant-table').getByText('db-01.example.net').waitFor();
    await page.getByText('1–2 of 2').waitFor();
    // The tree's badge counts the subtree's machines.
    await page.locator('.ant-tree [data-path="shop"] .ant-badge').getByText('2').waitFor();
    await page.screenshot({ path: SCREENSHOT });
  });

  test('imports machines from CSV and reports each row', async () => {
    await page.getByRole('button', { name: /Import/ }).click();
    const dialog = page.getByRole('dialog', { name: /Import machines/ });
    await dialog.getByLabel('Import data').fill('hostname,ips,zone\nweb-02.example.net,10.0.0.12,az2\nNOT_A_HOST,10.0.0.13,az2\n');
    await h.press(dialog, 'Import');
    const report = dialog.getByTestId('import-report');
    await report.getByText('web-02.example.net').waitFor();
    assert.match((await report.textContent()) ?? '', /Created1Updated0Failed1/);
    await h.press(dialog, 'Done');
    await dialog.waitFor({ state: 'hidden' });
    await page.getByText('1–3 of 3').waitFor();
  });

  test('finds nodes by search and refuses to delete a node with children, saying why', async () => {
    await page.getByPlaceholder('Search nodes').fill('web');
    await page.locator('.ant-menu').getByText('shop.web').click();
    await page.getByPlaceholder('Search nodes').fill('');
    await page.locator('.ant-tree').getByText('shop', { exact: true }).click();
    await page.waitForURL(/\/nodes\/shop(\?|$)/);
    await page.getByRole('tab', { name: /Overview/ }).click();
    await page.getByRole('button', { name: /Delete/ }).click();
    await h.press(page.getByRole('dialog'), 'Delete');
    await page.getByText('Cannot delete this node').waitFor();
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    assert.match((await page.locator('.ant-alert-error').textContent()) ?? '', /still has/);
    await page.screenshot({ path: SCREENSHOT.replace('.png', '-overview.png') });
  });

  test('shows the audit entries of the subtree with an expandable before/after diff', async () => {
    await page.getByRole('tab', { name: /Audit/ }).click();
    const table = page.locator('.ant-table');
    for (const op of ['tree.create', 'machine.create', 'machine.bind']) await table.getByText(op, { exact: true }).first().waitFor();
    await table.locator('.ant-table-row-expand-icon').first().click();
    await page.locator('.ant-table-expanded-row').getByText('After').first().waitFor();
    await page.screenshot({ path: SCREENSHOT.replace('.png', '-audit.png') });
  });

  test('grants a role on the node and revokes it in the Permissions tab', async () => {
    await apiAsAdmin('POST', '/api/v1/users', { username: 'alice', password: 'alice-password-1' });
    await page.locator('.ant-tree').getByText('web', { exact: true }).click();
    await page.getByRole('tab', { name: /Permissions/ }).click();
    await page.getByRole('button', { name: /Add grant/ }).click();
    const dialog = page.getByRole('dialog', { name: /Grant a role/ });
    await dialog.getByRole('combobox', { name: /User/ }).fill('alice');
    await dialog.getByRole('combobox', { name: /Role/ }).click();
    await page.locator('.ant-select-item-option').filter({ hasText: /^viewer/ }).click();
    await h.submit(dialog, 'Grant');
    const row = page.locator('.ant-table-row').filter({ hasText: 'alice' });
    await row.getByText('viewer').waitFor();
    await row.getByText('this node').waitFor();
    await row.getByRole('button', { name: 'Revoke' }).click();
    await h.confirm('Revoke');
    await row.waitFor({ state: 'detached' });

    // A grant on a node that went to the trash still shows (and can still be revoked), marked so.
    await apiAsAdmin('POST', '/api/v1/nodes', { parentPath: 'shop.web', name: 'gone' });
    await apiAsAdmin('POST', '/api/v1/grants', { user: 'alice', role: 'viewer', nodePath: 'shop.web.gone' });
    await apiAsAdmin('DELETE', '/api/v1/nodes/shop.web.gone');
    await page.reload();
    const trashed = page.locator('.ant-table-row').filter({ hasText: 'shop.web.gone' });
    await trashed.getByText('node in trash').waitFor();
    await trashed.getByRole('button', { name: 'Revoke' }).click();
    await h.confirm('Revoke');
    await trashed.waitFor({ state: 'detached' });
  });

  test('renames and moves a node; the URL and the tree follow', async () => {
    await apiAsAdmin('POST', '/api/v1/nodes', { parentPath: null, name: 'lab' });
    await page.getByRole('tab', { name: /Overview/ }).click();
    await page.getByRole('button', { name: /Rename/ }).click();
    const rename = page.getByRole('dialog', { name: /Rename/ });
    await rename.getByLabel('New name').fill('www');
    await h.submit(rename, 'Rename');
    await page.waitForURL(/\/nodes\/shop\.www(\?|$)/);
    await page.locator('.ant-tree').getByText('www', { exact: true }).waitFor();

    await page.getByRole('button', { name: /Move/ }).click();
    const move = page.getByRole('dialog', { name: /Move/ });
    await move.getByLabel('New parent').fill('lab');
    await page.locator('.ant-select-item-option').filter({ hasText: /^lab$/ }).click();
    await h.submit(move, 'Move');
    await page.waitForURL(/\/nodes\/lab\.www(\?|$)/);
    await page.getByTestId('node-title').getByText('www').waitFor();
    await page.locator('.ant-tree [data-path="lab.www"]').waitFor(); // strict: exactly one
    assert.deepEqual(pageErrors, []);
  });

  test('logs out back to the login page', async () => {
    await page.getByRole('button', { name: /Log out/ }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    const me = await page.evaluate(async () => (await fetch('/api/v1/auth/me')).status);
    assert.equal(me, 401);
  });
});
