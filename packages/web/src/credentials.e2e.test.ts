/**
 * Machine credentials in a real browser against a real server: headless Chromium drives the built
 * console served by Canopy (over a PGlite test database). An operator issues a credential from the
 * Machines tab, reads its secret once, and revokes it; plain fetches with that secret as a Bearer
 * token prove what the page showed is what an agent can use — and stops being usable on revoke.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_PASSWORD } from '../../server/src/testing/index.ts';
import { ROOT, chromiumMissing, startConsoleE2E, type ConsoleE2E } from './e2e-harness.test-util.ts';

const OUT = join(ROOT, '.cache/web-e2e-credentials');
const SCREENSHOT = '/tmp/canopy-credentials.png';
const HOST = 'agent-01.example';

describe('machine credentials in Chromium', { skip: chromiumMissing }, () => {
  let h: ConsoleE2E;
  let page: ConsoleE2E['page'];
  let base: string;
  let pageErrors: string[] = [];
  let secret = '';

  before(async () => {
    h = await startConsoleE2E(OUT);
    ({ page, base, pageErrors } = h);
    await h.call('POST', '/nodes', { parentPath: null, name: 'cred' });
    await h.call('POST', '/nodes', { parentPath: 'cred', name: 'api' });
    await h.call('POST', '/machines', { hostname: HOST, ips: ['10.9.0.11'], nodes: ['cred.api'], status: 'online' });
    await h.call('PUT', '/services/cred.api', { ports: [{ name: 'http', port: 8080 }] });
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  });

  after(() => h?.close());

  /** What an agent holding `token` gets when it reads the service its machine runs in. */
  const agentRead = async (token: string) =>
    (await fetch(`${base}/api/v1/services/cred.api/instances`, { headers: { authorization: `Bearer ${token}` } })).status;
  const drawer = () => page.getByRole('dialog', { name: `Credentials of ${HOST}` });
  const credentialRow = (name: string) => drawer().locator('.ant-table-row').filter({ hasText: name });

  test('issues a credential from the machine row and shows its secret once, with a warning and a copy button', async () => {
    await page.goto(`${base}/`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Welcome, Administrator').waitFor();
    await page.goto(`${base}/nodes/cred.api?tab=machines`);
    await page.locator('.ant-table-row').filter({ hasText: HOST }).getByRole('button', { name: 'Credentials' }).click();
    await drawer().getByText('No credential yet').waitFor();

    await drawer().getByRole('button', { name: 'Issue credential' }).click();
    const issue = page.getByRole('dialog', { name: `Issue a credential for ${HOST}` });
    assert.equal(await issue.getByLabel('Name').inputValue(), 'agent', 'the name proposed by default');
    await h.submit(issue, 'Issue');

    const shown = page.getByRole('dialog', { name: 'Credential issued' });
    await shown.getByText('it will not be shown again').waitFor();
    secret = await shown.getByLabel('Secret').inputValue();
    assert.match(secret, /^cnm_[A-Za-z0-9_-]{43}$/);
    await shown.getByRole('button', { name: 'Copy' }).click();
    await page.getByText('Secret copied to the clipboard').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    await page.screenshot({ path: SCREENSHOT.replace('.png', '-issued.png') });

    assert.equal(await agentRead(secret), 200, 'the secret on the page authenticates an agent');
    assert.equal(await agentRead(`${secret.slice(0, -1)}x`), 401, 'and a forged one does not');
  });

  test('after closing, the list shows the credential by prefix, never its secret', async () => {
    await h.press(page.getByRole('dialog', { name: 'Credential issued' }), 'Done');
    await page.getByRole('dialog', { name: 'Credential issued' }).waitFor({ state: 'hidden' });
    const row = credentialRow('agent');
    await row.getByText(`${secret.slice(0, 8)}…`).waitFor();
    await row.getByText('admin').waitFor();
    assert.ok(!(await page.content()).includes(secret), 'the secret is gone from the page');
    await page.screenshot({ path: SCREENSHOT });
  });

  test('refuses a duplicate or malformed name, showing the server’s reason', async () => {
    await drawer().getByRole('button', { name: 'Issue credential' }).click();
    const issue = page.getByRole('dialog', { name: `Issue a credential for ${HOST}` });
    await h.press(issue, 'Issue');
    await issue.locator('.ant-alert-error').getByText(`machine '${HOST}' already has a credential named 'agent'`).waitFor();

    await issue.getByLabel('Name').fill('Bad Name');
    await h.press(issue, 'Issue');
    await issue.locator('.ant-form-item-explain-error').getByText(/lower-case letters/).waitFor();
    await h.press(issue, 'Cancel');
    await issue.waitFor({ state: 'hidden' });
    assert.equal(await drawer().locator('.ant-table-row').count(), 1, 'nothing else was issued');
  });

  test('revokes after confirmation, and the agent holding the secret is refused at once', async () => {
    await credentialRow('agent').getByRole('button', { name: 'Revoke' }).click();
    await h.confirm('Revoke');
    await credentialRow('agent').waitFor({ state: 'detached' });
    await drawer().getByText('No credential yet').waitFor();
    assert.equal(await agentRead(secret), 401);
    assert.deepEqual((await h.call('GET', `/machines/${HOST}/credentials`)).items, []);
    assert.deepEqual(pageErrors, []);
  });
});
