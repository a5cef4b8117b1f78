/**
 * The Cron tab in a real browser, run by a real agent: a `canopy-agent` on this machine (loopback)
 * runs an every-second entry set on the machine's parent node. An operator sees the entry below
 * with where it comes from and its next run, opens its runs and reads a run's output, overrides it
 * on the child from the tab, and disables it there.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_PASSWORD } from '../../../../server/src/testing/index.ts';
import { localHost, startAgent, until, type RunningAgent } from '../../../../agent/src/testing.ts';
import { ROOT, chromiumMissing, startConsoleE2E, type ConsoleE2E } from '../../e2e-harness.test-util.ts';

const OUT = join(ROOT, '.cache/web-e2e-cron');
const HOST = 'cron-web-1';

describe('the Cron tab in Chromium', { skip: chromiumMissing }, () => {
  let h: ConsoleE2E;
  let page: ConsoleE2E['page'];
  let agent: RunningAgent | undefined;

  before(async () => {
    h = await startConsoleE2E(OUT);
    page = h.page;
    await h.call('POST', '/nodes', { parentPath: null, name: 'cw' });
    await h.call('POST', '/nodes', { parentPath: 'cw', name: 'app' });
    await h.call('POST', '/machines', { hostname: HOST, ips: ['10.78.0.1'], nodes: ['cw.app'], status: 'online' });
    const { token } = await h.call('POST', `/machines/${HOST}/credentials`, { name: 'agent' });
    agent = startAgent(localHost(HOST), h.base, token);
    await until('the agent connected', async () => (await h.call('GET', '/agents?under=cw')).items.some((a: { state: string }) => a.state === 'connected'), 60_000);
    await h.call('PUT', '/nodes/cw/cron/hello', { schedule: '* * * * * *', script: 'echo "hello from cron"\n' });
    await until('a run reported', async () => (await h.call('GET', '/nodes/cw/cron/hello/runs')).items.some((r: { state: string }) => r.state === 'succeeded'), 60_000);
    await h.signIn('admin', ADMIN_PASSWORD);
  });

  after(async () => {
    await agent?.stop();
    await h?.close();
  });

  test('the child shows the inherited entry, its next and last run; a run opens to its output', async () => {
    await page.goto(`${h.base}/nodes/cw.app?tab=cron`);
    const row = page.getByTestId('cron-entries').locator('.ant-table-row').filter({ hasText: 'hello' });
    await row.getByText('inherited from cw').waitFor();
    await row.getByText('succeeded').first().waitFor();
    assert.match(await row.innerText(), /\* \* \* \* \* \*/);
    await row.getByText('hello', { exact: true }).click();
    const runs = page.getByTestId('cron-runs');
    await runs.locator('.ant-table-row').filter({ hasText: 'succeeded' }).first().click();
    await page.getByTestId('cron-run-output').getByText('hello from cron').waitFor();
    assert.match(await runs.innerText(), new RegExp(HOST));
    await page.getByRole('button', { name: 'Close' }).click();
    assert.deepEqual(h.pageErrors, []);
  });

  test('override on the child from the tab, then remove the override and disable the entry here', async () => {
    await page.goto(`${h.base}/nodes/cw.app?tab=cron`);
    const row = () => page.getByTestId('cron-entries').locator('.ant-table-row').filter({ hasText: 'hello' });
    await row().getByRole('button', { name: 'Override' }).click();
    const dialog = page.getByRole('dialog', { name: 'Override hello on cw.app' });
    await dialog.getByRole('textbox', { name: 'Schedule' }).fill('*/2 * * * * *');
    await h.submit(dialog, 'Save');
    await row().getByText('here, overriding cw').waitFor();
    assert.equal((await h.call('GET', '/nodes/cw.app/cron')).entries[0].spec.schedule, '*/2 * * * * *');

    await row().getByRole('button', { name: 'Remove' }).click();
    await h.confirm('OK');
    await row().getByText('inherited from cw').waitFor();
    await row().getByRole('button', { name: 'Disable here' }).click();
    await h.confirm('OK');
    await page.getByTestId('cron-disabled').getByText('hello (from cw) at cw.app').waitFor();
    assert.equal((await h.call('GET', '/nodes/cw.app/cron')).entries.length, 0);
    assert.deepEqual(h.pageErrors, []);
  });
});
