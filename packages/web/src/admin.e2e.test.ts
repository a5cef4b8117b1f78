/**
 * The console's admin pages in a real browser against a real server: headless Chromium drives the
 * built console served by Canopy (over a PGlite test database). A superuser reaches every page from
 * the top bar's Admin menu, creates a user, resets their password, revokes their API token,
 * restores a node from the trash and filters the audit log; plain API calls prove each change is
 * what the server now holds. A non-superuser's menu has no Trash and their pages no admin buttons.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_PASSWORD } from '../../server/src/testing/index.ts';
import { ROOT, chromiumMissing, settle, startConsoleE2E, type ConsoleE2E } from './e2e-harness.test-util.ts';

const OUT = join(ROOT, '.cache/web-e2e-admin');
const SCREENSHOT = '/tmp/canopy-admin.png';
const FIRST_PASSWORD = 'carol-first-pw';
const NEW_PASSWORD = 'carol-second-pw';

describe('admin pages in Chromium', { skip: chromiumMissing }, () => {
  let h: ConsoleE2E;
  let page: ConsoleE2E['page'];
  let base: string;
  let pageErrors: string[] = [];

  before(async () => {
    h = await startConsoleE2E(OUT);
    ({ page, base, pageErrors } = h);
    await h.call('POST', '/nodes', { parentPath: null, name: 'adm' });
    await h.call('POST', '/nodes', { parentPath: 'adm', name: 'old' });
  });

  after(() => h?.close());

  /** Status of a login attempt through the API. */
  const loginStatus = async (username: string, password: string) =>
    (await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } })).statusCode;
  /** Status of `/auth/me` for a bearer token. */
  const meWith = async (token: string) => (await h.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Bearer ${token}` } })).statusCode;
  const row = (text: string) => page.locator('.ant-table-row').filter({ hasText: text });

  /**
   * Pick `item` from the Admin menu once the menu has stopped moving (a click during its zoom-in can
   * miss on a loaded machine), and wait for the menu to close: the click landed.
   */
  async function openAdmin(item: string): Promise<void> {
    const entry = page.getByRole('menuitem', { name: item });
    await page.getByRole('button', { name: /Admin/ }).click();
    await entry.waitFor();
    await settle(page.locator('.ant-dropdown').filter({ has: entry }));
    await entry.click();
    await entry.waitFor({ state: 'hidden' });
  }

  test('creates a user from the Users page reached through the Admin menu', async () => {
    await h.signIn('admin', ADMIN_PASSWORD);
    await openAdmin('Users');
    await page.waitForURL(`${base}/admin/users`);
    await row('admin').waitFor();
    await page.getByRole('button', { name: 'New user' }).click();
    const d = page.getByRole('dialog', { name: 'New user' });
    await d.getByLabel('Username').fill('carol');
    await d.getByLabel('Display name').fill('Carol Operator');
    await d.getByLabel('E-mail').fill('carol@example.com');
    await d.getByLabel('Password').fill(FIRST_PASSWORD);
    await h.submit(d, 'Create');
    await row('carol').getByText('Carol Operator').waitFor();
    const users = (await h.call('GET', '/users')).items as { username: string; email: string | null; superuser: boolean | null }[];
    assert.deepEqual(
      users.filter((u) => u.username === 'carol').map((u) => ({ email: u.email, superuser: u.superuser })),
      [{ email: 'carol@example.com', superuser: false }],
    );
    assert.equal(await loginStatus('carol', FIRST_PASSWORD), 200, 'the password typed in the dialog logs in');
  });

  test('shows the server’s refusal of a duplicate user under the dialog', async () => {
    await page.getByRole('button', { name: 'New user' }).click();
    const d = page.getByRole('dialog', { name: 'New user' });
    await d.getByLabel('Username').fill('carol');
    await h.press(d, 'Create');
    await d.locator('.ant-alert-error, .ant-form-item-explain-error').filter({ hasText: /carol|exists|taken/i }).first().waitFor();
    await h.press(d, 'Cancel');
    await d.waitFor({ state: 'hidden' });
  });

  test('resets a password: the new one logs in, the old one no longer does', async () => {
    await row('carol').getByRole('button', { name: 'Reset password' }).click();
    const d = page.getByRole('dialog', { name: 'Reset the password of carol' });
    await d.getByLabel('New password').fill(NEW_PASSWORD);
    await h.submit(d, 'Reset password');
    await page.getByText('Password of carol reset').waitFor();
    assert.equal(await loginStatus('carol', NEW_PASSWORD), 200);
    assert.equal(await loginStatus('carol', FIRST_PASSWORD), 401);
  });

  test('disables a user, who can no longer log in, then deletes them', async () => {
    await h.call('POST', '/users', { username: 'dave', password: 'dave-password-1' });
    await page.reload();
    const dave = row('dave');
    await dave.getByText('active').waitFor();
    await dave.getByRole('button', { name: 'Disable' }).click();
    await dave.getByText('disabled').waitFor();
    assert.notEqual(await loginStatus('dave', 'dave-password-1'), 200, 'a disabled user cannot log in');
    await dave.getByRole('button', { name: 'Delete' }).click();
    await h.confirm('Delete');
    await dave.waitFor({ state: 'detached' });
    assert.ok(!((await h.call('GET', '/users')).items as { username: string }[]).some((u) => u.username === 'dave'));
  });

  test('a superuser sees everyone’s API tokens and revokes one; it stops authenticating at once', async () => {
    const session = (await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'carol', password: NEW_PASSWORD } })).json() as { token: string };
    const made = await h.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: { authorization: `Bearer ${session.token}` }, payload: { name: 'carol-ci', expiresInDays: 30 } });
    assert.equal(made.statusCode, 201, made.body);
    const token = made.json() as { id: number; token: string };
    assert.equal(await meWith(token.token), 200);

    await openAdmin('API tokens');
    await page.waitForURL(`${base}/admin/tokens`);
    await page.getByText('Everyone’s').click();
    const carols = row('carol-ci');
    await carols.getByText('carol', { exact: true }).waitFor();
    await carols.getByText('active').waitFor();
    await carols.getByRole('button', { name: 'Revoke' }).click();
    await h.confirm('Revoke');
    await carols.getByText('revoked').waitFor();
    assert.equal(await meWith(token.token), 401, 'the revoked token is refused');
  });

  test('creates its own token and shows the secret once', async () => {
    await page.getByText('Mine').click();
    await page.getByRole('button', { name: 'New token' }).click();
    const d = page.getByRole('dialog', { name: 'New API token' });
    await d.getByLabel('Name').fill('admin-script');
    await h.submit(d, 'Create');
    const shown = page.getByRole('dialog', { name: 'Token admin-script created' });
    const secret = ((await shown.getByTestId('new-token-secret').locator('code').textContent()) ?? '').trim();
    assert.equal(await meWith(secret), 200, 'the secret on the page authenticates');
    await h.press(shown, 'Done');
    await shown.waitFor({ state: 'hidden' });
    await row('admin-script').getByText('active').waitFor();
    assert.ok(!(await page.content()).includes(secret), 'the secret is gone from the page');
  });

  test('restores a deleted node from the trash, where it says it would go', async () => {
    await h.call('DELETE', '/nodes/adm.old');
    await openAdmin('Trash');
    await page.waitForURL(`${base}/admin/trash`);
    const trashed = row('adm.old');
    await trashed.waitFor();
    assert.equal(await trashed.locator('code').count(), 2, 'the deleted path and where it restores as');
    await trashed.getByRole('button', { name: 'Restore' }).click();
    await page.getByText('Restored adm.old as adm.old').waitFor();
    await page.getByText('The trash is empty').waitFor();
    assert.equal((await h.call('GET', '/nodes/adm.old')).path, 'adm.old');
  });

  test('filters the audit log across nodes by operation, user, node and time', async () => {
    await openAdmin('Audit log');
    await page.waitForURL(`${base}/admin/audit`);
    await row('tree.restore').waitFor();
    await page.getByLabel('Operation', { exact: true }).fill('tree.restore');
    await page.getByRole('button', { name: 'Filter' }).click();
    await row('tree.create').first().waitFor({ state: 'detached' });
    assert.equal(await page.locator('.ant-table-row').count(), 1, 'only the restore');
    await row('tree.restore').getByText('adm.old').waitFor();

    await page.getByLabel('Operation', { exact: true }).fill('');
    await page.getByLabel('User', { exact: true }).fill('admin');
    await page.getByLabel('Node', { exact: true }).fill('adm.old');
    await page.getByRole('button', { name: 'Filter' }).click();
    await row('tree.delete').waitFor();
    const ops = await page.locator('.ant-table-row td:nth-child(4)').allTextContents();
    assert.ok(ops.length >= 2 && ops.every((o) => o.startsWith('tree.')), `entries of adm.old only: ${ops.join(', ')}`);

    await page.getByLabel('To', { exact: true }).fill('2020-01-01T00:00');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.locator('.ant-table-placeholder').waitFor();
    assert.equal(await page.locator('.ant-table-row').count(), 0, 'nothing happened before 2020');
    await page.screenshot({ path: SCREENSHOT.replace('.png', '-audit.png') });
  });

  test('the auth log shows the logins made, failures included', async () => {
    await openAdmin('Auth log');
    await page.waitForURL(`${base}/admin/auth-log`);
    await page.getByLabel('User name', { exact: true }).fill('carol');
    // The unfiltered page shows carol's rows too: wait for the filtered answer, not for rows.
    const filtered = page.waitForResponse((r) => r.url().includes('/auth/log') && new URL(r.url()).searchParams.get('user') === 'carol');
    await page.getByRole('button', { name: 'Filter' }).click();
    await filtered;
    await row('admin').first().waitFor({ state: 'detached' });
    await row('failure').first().waitFor();
    await row('success').first().waitFor();
    const names = await page.locator('.ant-table-row td:nth-child(2)').allTextContents();
    assert.ok(names.length > 0 && names.every((n) => n === 'carol'), names.join(', '));
  });

  /** In `dialog`, type `typed` into the multiple select labelled `label`, pick `option`, and close the dropdown. */
  async function choose(dialog: ReturnType<ConsoleE2E['page']['getByRole']>, label: string, typed: string, option: RegExp): Promise<void> {
    await dialog.getByLabel(label).fill(typed);
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: option }).click();
    // A multiple select stays open after a pick, over the dialog's buttons: a click elsewhere closes it.
    await dialog.locator('.ant-modal-title').click();
    await page.locator('.ant-select-dropdown:visible').first().waitFor({ state: 'hidden' });
  }

  test('creates a role, edits its operations, and deletes it with the grant that used it', async () => {
    await openAdmin('Roles');
    await page.waitForURL(`${base}/admin/roles`);
    await row('viewer').getByText('built-in').waitFor();
    await page.getByRole('button', { name: 'New role' }).click();
    const d = page.getByRole('dialog', { name: 'New role' });
    await d.getByLabel('Name').fill('deployer');
    await choose(d, 'Operations', 'deploy.re', /^deploy\.read/);
    await h.submit(d, 'Create');
    await row('deployer').getByText('deploy.read').waitFor();

    await row('deployer').getByRole('button', { name: 'Edit…' }).click();
    const edit = page.getByRole('dialog', { name: 'Role deployer' });
    await choose(edit, 'Operations', 'deploy.ru', /^deploy\.run/);
    await h.submit(edit, 'Save');
    await row('deployer').getByText('deploy.run').waitFor();
    const roles = (await h.call('GET', '/roles')).items as { name: string; operations: string[] }[];
    assert.deepEqual(roles.find((r) => r.name === 'deployer')?.operations.sort(), ['deploy.read', 'deploy.run']);

    const grant = await h.call('POST', '/grants', { user: 'carol', role: 'deployer', nodePath: 'adm' });
    await row('deployer').getByRole('button', { name: 'Delete' }).click();
    await h.confirm('Delete');
    const ask = page.getByRole('dialog', { name: 'Delete role deployer and its grants?' });
    await ask.getByText(/still granted/).waitFor();
    await h.press(ask, 'Delete with its grants');
    await row('deployer').waitFor({ state: 'detached' });
    assert.ok(!((await h.call('GET', '/grants')).items as { id: number }[]).some((g) => g.id === grant.id), 'its grant went with it');
  });

  test('creates a group with a member, empties it, and deletes it', async () => {
    await openAdmin('Groups');
    await page.waitForURL(`${base}/admin/groups`);
    await page.getByRole('button', { name: 'New group' }).click();
    const d = page.getByRole('dialog', { name: 'New group' });
    await d.getByLabel('Name').fill('oncall');
    await choose(d, 'Members', 'car', /^carol/);
    await h.submit(d, 'Create');
    await row('oncall').getByText('carol').waitFor();

    await row('oncall').getByRole('button', { name: 'Members…' }).click();
    const members = page.getByRole('dialog', { name: 'Members of oncall' });
    await members.locator('.ant-select-selection-item-remove').click();
    await h.submit(members, 'Save');
    await row('oncall').getByText('none').waitFor();
    assert.deepEqual(((await h.call('GET', '/groups')).items as { name: string; members: string[] }[]).find((g) => g.name === 'oncall')?.members, []);

    await row('oncall').getByRole('button', { name: 'Delete' }).click();
    await h.confirm('Delete');
    await row('oncall').waitFor({ state: 'detached' });
    assert.ok(!((await h.call('GET', '/groups')).items as { name: string }[]).some((g) => g.name === 'oncall'));
  });

  test('a non-superuser’s Admin menu has no Trash, and the Users page no admin buttons', async () => {
    const other = await h.browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      other.setDefaultTimeout(30_000);
      await h.signIn('carol', NEW_PASSWORD, other);
      await other.getByRole('button', { name: /Admin/ }).click();
      await other.getByRole('menuitem', { name: 'Users' }).waitFor();
      assert.equal(await other.getByRole('menuitem', { name: 'Trash' }).count(), 0);
      await other.getByRole('menuitem', { name: 'Users' }).click();
      await other.locator('.ant-table-row').filter({ hasText: 'carol' }).waitFor();
      assert.equal(await other.getByRole('button', { name: 'New user' }).count(), 0);
      assert.equal(await other.getByRole('button', { name: 'Reset password' }).count(), 0);
      await other.goto(`${base}/admin/trash`);
      await other.getByText('No such admin page').waitFor();
    } finally {
      await other.close();
    }
    assert.deepEqual(pageErrors, []);
  });
});
