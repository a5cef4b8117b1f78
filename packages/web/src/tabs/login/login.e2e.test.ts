/**
 * The Login tab in Chromium: who may log in below a node and through which grant (sudo marked), the
 * shared account set from the tab (the server keeps it, and says where it comes from below), and a
 * break-glass key made there (its private key shown once) and revoked.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_PASSWORD } from '../../../../server/src/testing/index.ts';
import { newEd25519 } from '../../../../server/src/ssh/keys.ts';
import { ROOT, chromiumMissing, startConsoleE2E, type ConsoleE2E } from '../../e2e-harness.test-util.ts';

const OUT = join(ROOT, '.cache/web-e2e-login');

describe('the Login tab in Chromium', { skip: chromiumMissing }, () => {
  let h: ConsoleE2E;
  let page: ConsoleE2E['page'];

  before(async () => {
    h = await startConsoleE2E(OUT);
    page = h.page;
    await h.call('POST', '/nodes', { parentPath: null, name: 'lw' });
    await h.call('POST', '/nodes', { parentPath: 'lw', name: 'db' });
    for (const [username, role] of [['lw-dev', 'developer'], ['lw-ops', 'ops']] as const) {
      await h.call('POST', '/users', { username, sshKeys: [newEd25519(`${username}@laptop`).publicKey], password: 'password-1234' });
      await h.call('POST', '/grants', { user: username, role, nodePath: 'lw' });
    }
    await h.signIn('admin', ADMIN_PASSWORD);
  });

  after(async () => {
    await h?.close();
  });

  test('lists who may log in with the grant; the shared account and a break-glass key are managed from the tab', async () => {
    await page.goto(`${h.base}/nodes/lw.db?tab=login`);
    const dev = page.locator('.ant-table-row').filter({ hasText: 'lw-dev' });
    await dev.getByText('developer on lw').waitFor();
    await dev.locator('code').filter({ hasText: 'lw-dev' }).waitFor();
    await page.locator('.ant-table-row').filter({ hasText: 'lw-ops' }).getByText('sudo', { exact: true }).waitFor();

    await page.getByLabel('Shared account').fill('work');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('everyone logs in as').waitFor();
    const settings = await h.call('GET', '/nodes/lw.db/ssh/settings');
    assert.equal(settings.effective.loginAs, 'work');

    await page.getByRole('button', { name: 'New break-glass key' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('BEGIN OPENSSH PRIVATE KEY').waitFor();
    await dialog.getByRole('button', { name: 'OK' }).click();
    const [key] = (await h.call('GET', '/nodes/lw.db/ssh/settings')).breakGlass as { fingerprint: string }[];
    await page.getByText(key!.fingerprint).waitFor();
    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.locator('.ant-popconfirm').getByRole('button', { name: 'OK', exact: true }).click();
    await page.getByText(key!.fingerprint).waitFor({ state: 'detached' });
    assert.deepEqual((await h.call('GET', '/nodes/lw.db/ssh/settings')).breakGlass, []);
    assert.deepEqual(h.pageErrors, []);
  });
});
