/**
 * The console for a scoped user in a real browser against a real server (issue 9, items 12, 15,
 * 16): alice, developer on corp.pay, reaches corp.pay through `corp`, a node she may not open;
 * read-only tabs offer no Save/Delete/New buttons, and say what changing would need; where she
 * does hold write (ops on corp.pay.api) the buttons are there; a bookmark to a renamed node lands
 * on its new path with a notice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT, chromiumMissing, startConsoleE2E, type ConsoleE2E } from './e2e-harness.test-util.ts';

const OUT = join(ROOT, '.cache/web-e2e-scoped');
const SCREENSHOT = '/tmp/canopy-scoped.png';
const ALICE = { username: 'alice', password: 'alice-password-1' };

/** Buttons no read-only user should be offered, whatever the tab. */
const WRITE_BUTTONS = /^(Save|Delete.*|New .*|Add .*|Edit .*|Rename|Move|Bind existing|Import|Register instance|Request install|Issue credential|Make this node .*|Serve .*|Point an alias here|Apply…|Revoke|Unbind|Drain|Undrain|Rollback)$/;

describe('the console for a scoped user in Chromium', { skip: chromiumMissing }, () => {
  let h: ConsoleE2E;
  let page: ConsoleE2E['page'];
  let base: string;
  let pageErrors: string[] = [];

  before(async () => {
    h = await startConsoleE2E(OUT);
    ({ page, base, pageErrors } = h);
    const call = h.call.bind(h);
    for (const [parentPath, name] of [[null, 'corp'], ['corp', 'pay'], ['corp.pay', 'web'], ['corp.pay', 'api'], ['corp', 'ops'], ['corp', 'search'], ['corp.search', 'query'], ['corp', 'lab']] as const) {
      await call('POST', '/nodes', { parentPath, name });
    }
    await call('POST', '/machines', { hostname: 'pay-web-01.example', ips: ['10.7.0.11'], nodes: ['corp.pay.web'], status: 'online' });
    await call('PUT', '/services/corp.pay.web', { ports: [{ name: 'http', port: 8080 }] });
    await call('PUT', '/services/corp.pay.web/instances/pay-web-01.example/8080', {});
    await call('PUT', '/domains/pay.example.com', { ports: [{ port: 80 }] });
    await call('PUT', '/nodes/corp.pay.web/nginx', { domainUris: [{ domain: 'pay.example.com', uri: '/' }], port: 8080 });
    await call('POST', '/users', { ...ALICE, displayName: 'Alice' });
    await call('POST', '/grants', { user: 'alice', role: 'developer', nodePath: 'corp.pay' });
    await call('POST', '/grants', { user: 'alice', role: 'ops', nodePath: 'corp.pay.api' });
    await call('POST', '/grants', { user: 'alice', role: 'viewer', nodePath: 'corp.search' });
    await call('POST', '/roles', { name: 'tree-reader', operations: ['tree.read', 'machine.read'] });
    await call('POST', '/grants', { user: 'alice', role: 'tree-reader', nodePath: 'corp.lab' });
    await page.goto(`${base}/`);
    await page.getByLabel('Username').fill(ALICE.username);
    await page.getByLabel('Password').fill(ALICE.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Welcome, Alice').waitFor();
  });

  after(() => h?.close());

  const tree = () => page.locator('.ant-tree');
  // The node page's active tab (the first: a tab may hold tabs of its own).
  const panel = () => page.locator('[role="tabpanel"][aria-hidden="false"]').first();
  /** The names of the enabled buttons on the active tab that would change something. */
  const writeButtons = async () => {
    const names = await panel().getByRole('button').evaluateAll((els) => els.filter((e) => !(e as HTMLButtonElement).disabled).map((e) => (e.textContent ?? '').trim() || (e.getAttribute('aria-label') ?? '')));
    return names.filter((n) => WRITE_BUTTONS.test(n) || /^(Deregister|Delete|Remove|Edit) /.test(n));
  };
  const openTab = async (name: RegExp) => {
    await page.getByRole('tab', { name }).click();
    await page.getByRole('tab', { name, selected: true }).waitFor();
  };

  test('alice reaches corp.pay through corp, a path-only step she cannot open', async () => {
    const corp = tree().locator('[data-path="corp"]');
    await corp.waitFor();
    assert.equal(await corp.getAttribute('data-path-only'), 'true', 'corp is shown as a step, not as a node she can open');
    assert.equal(await corp.locator('.ant-badge').count(), 0, 'a path-only step shows no company-wide machine count');

    // A click on the step opens it in the tree (it has no page of hers to show).
    await corp.click();
    await tree().locator('[data-path="corp.pay"]').waitFor();
    await tree().locator('[data-path="corp.search"]').waitFor();
    assert.equal(await tree().locator('[data-path="corp.ops"]').count(), 0, 'a sibling she holds nothing on stays absent');
    assert.equal(new URL(page.url()).pathname, '/', 'clicking the step does not open a "No such node" page');

    await tree().locator('[data-path="corp.pay"]').click();
    await page.waitForURL(`${base}/nodes/corp.pay`);
    await page.getByTestId('node-title').getByText('pay').waitFor();

    // The breadcrumb's corp leads to a page that says what she can see there, not "No such node".
    await page.locator('.ant-breadcrumb').getByText('corp', { exact: true }).click();
    await page.waitForURL(`${base}/nodes/corp`);
    const only = page.getByTestId('path-only');
    await only.getByText('You can see only parts of corp').waitFor();
    await only.getByRole('link', { name: 'corp.pay' }).waitFor();
    assert.equal(await only.getByText('corp.ops').count(), 0);
  });

  test('read-only tabs show what is there and no button that would answer 403', async () => {
    await page.goto(`${base}/nodes/corp.pay.web`);
    await page.getByTestId('node-title').getByText('web').waitFor();
    await tree().locator('[data-path="corp.pay.web"]').waitFor();
    assert.equal(await page.getByRole('button', { name: /New child/ }).isDisabled(), true, 'New child needs tree.write here');

    await panel().getByText('corp.pay.web', { exact: true }).first().waitFor();
    await panel().getByTestId('read-only-note').waitFor();
    assert.deepEqual(await writeButtons(), [], 'Overview');

    await openTab(/Machines/);
    await panel().locator('.ant-table-row').filter({ hasText: 'pay-web-01.example' }).waitFor();
    assert.deepEqual(await writeButtons(), [], 'Machines');

    await openTab(/Discovery/);
    await panel().getByTestId('serving-count').waitFor();
    await panel().locator('.ant-table-row').filter({ hasText: 'pay-web-01.example' }).first().waitFor();
    assert.deepEqual(await writeButtons(), [], 'Discovery');
    assert.equal(await panel().getByLabel('Weight of pay-web-01.example:8080').isDisabled(), true, 'the weight is shown, not editable');

    await openTab(/Nginx/);
    await panel().getByTestId('domain-uris').waitFor();
    await panel().locator('.ant-table-row').filter({ hasText: 'pay.example.com' }).waitFor();
    assert.deepEqual(await writeButtons(), [], 'Nginx');
    assert.match((await panel().getByTestId('read-only-note').textContent()) ?? '', /needs nginx\.write on corp\.pay\.web/);

    await openTab(/LVS/);
    await panel().getByText('This node\'s service has no LVS virtual service', { exact: false }).first().waitFor();
    assert.deepEqual(await writeButtons(), [], 'LVS');

    await openTab(/Config/);
    await panel().getByText('Effective result').waitFor();
    await panel().getByText('No open install requests under this node').waitFor();
    assert.deepEqual(await writeButtons(), [], 'Config');

    await openTab(/Permissions/);
    await panel().locator('.ant-table-row').filter({ hasText: 'developer' }).first().waitFor();
    assert.deepEqual(await writeButtons(), [], 'Permissions');
    await page.screenshot({ path: SCREENSHOT });
  });

  test('a tab she may not read is shown disabled, saying which operation it needs', async () => {
    await page.goto(`${base}/nodes/corp.lab?tab=nginx`);
    await page.getByTestId('node-title').getByText('lab').waitFor();
    // The bookmarked tab is unreadable: the page opens on the first readable one instead.
    await page.getByRole('tab', { name: /Overview/, selected: true }).waitFor();
    for (const name of [/Nginx/, /LVS/, /Config/, /Permissions/, /Audit/, /Discovery/]) {
      assert.equal(await page.getByRole('tab', { name }).getAttribute('aria-disabled'), 'true', `${name} needs its read operation`);
    }
    assert.equal(await page.getByRole('tab', { name: /Machines/ }).getAttribute('aria-disabled'), 'false');
    await page.getByRole('tab', { name: /Nginx/ }).hover();
    await page.getByRole('tooltip').getByText('Reading this tab needs nginx.read on corp.lab').waitFor();
    await page.mouse.move(0, 0);
    await page.getByRole('tooltip').waitFor({ state: 'hidden' });
  });

  test('where she holds ops the buttons are there, and Rename says it needs the parent too', async () => {
    await page.goto(`${base}/nodes/corp.pay.api`);
    await page.getByTestId('node-title').getByText('api').waitFor();
    await tree().locator('[data-path="corp.pay.api"]').waitFor();
    assert.equal(await page.getByRole('button', { name: /New child/ }).isDisabled(), false);
    await panel().getByRole('button', { name: /Delete/ }).waitFor();
    assert.equal(await panel().getByTestId('read-only-note').count(), 0);
    const rename = panel().getByRole('button', { name: /Rename/ });
    await page.waitForFunction(() => document.querySelector<HTMLButtonElement>('[role="tabpanel"] button[disabled]')?.textContent?.includes('Rename') ?? false);
    assert.equal(await rename.isDisabled(), true, 'renaming needs tree.write on corp.pay, which she lacks');
    await rename.hover({ force: true });
    await page.getByRole('tooltip').getByText('Renaming needs tree.write on the parent corp.pay too').waitFor();
    await page.mouse.move(0, 0);
    await page.getByRole('tooltip').waitFor({ state: 'hidden' });

    await openTab(/Machines/);
    for (const name of [/Add machine/, /Bind existing/, /Import/]) await panel().getByRole('button', { name }).waitFor();
  });

  test('a bookmark to a renamed node lands on its new path and says where it went', async () => {
    await h.call('PATCH', '/nodes/corp.search', { name: 'find' });
    await page.goto(`${base}/nodes/corp.search.query`);
    await page.waitForURL(`${base}/nodes/corp.find.query`);
    await page.getByTestId('moved-notice').getByText('corp.search.query moved to corp.find.query').waitFor();
    await page.getByTestId('node-title').getByText('query').waitFor();
    await tree().locator('[data-path="corp.find.query"]').waitFor();
    assert.deepEqual(pageErrors, []);
  });
});
