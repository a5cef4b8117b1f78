/**
 * The Deploy tab in a real browser. The node declares a process and has one version in its
 * artifact repository; its one machine has no agent, so a deployment stays staging on it. An
 * operator starts a deployment from the tab, watches it stage on the host, pauses, resumes and
 * stops it from the tab; with approval required, approving their own deployment is refused and
 * the server's reason shows.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Locator, Page } from 'playwright-core';
import { ADMIN_PASSWORD } from '../../../../server/src/testing/index.ts';
import { ROOT, chromiumMissing, startConsoleE2E, type ConsoleE2E } from '../../e2e-harness.test-util.ts';

const OUT = join(ROOT, '.cache/web-e2e-deploy');
const HOST = 'deploy-web-1';

// Start a deployment of 1.0.0 from the tab's dialog, after `fill` set the strategy fields it wants.
async function deployFromTab(h: ConsoleE2E, fill: (dialog: Locator) => Promise<void> = async () => {}): Promise<Locator> {
  const page: Page = h.page;
  await page.getByTestId('deploy-new').click();
  const dialog = page.getByRole('dialog', { name: 'Deploy dweb.app' });
  await dialog.getByRole('combobox', { name: 'Version' }).click();
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option').filter({ hasText: /^1\.0\.0/ }).click();
  await fill(dialog);
  await h.submit(dialog, 'Deploy');
  return page.getByTestId('deployment').first();
}

describe('deployments in Chromium', { skip: chromiumMissing }, () => {
  let h: ConsoleE2E;
  const store = mkdtempSync(join(tmpdir(), 'canopy-deploy-e2e-'));

  before(async () => {
    // The server of this process reads its artifact settings from the environment as it starts.
    process.env['CANOPY_ARTIFACTS_DIR'] = store;
    h = await startConsoleE2E(OUT);
    for (const [parentPath, name] of [[null, 'dweb'], ['dweb', 'app']] as const) await h.call('POST', '/nodes', { parentPath, name });
    await h.call('POST', '/machines', { hostname: HOST, ips: ['10.79.0.1'], nodes: ['dweb.app'], status: 'online' });
    await h.call('PUT', '/nodes/dweb.app/process', { argv: ['/bin/sleep', '3600'] });
    const pushed = await h.app.inject({ method: 'PUT', url: '/api/v1/artifacts/dweb.app/1.0.0', payload: gzipSync(randomBytes(2000)), headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/octet-stream' } });
    assert.equal(pushed.statusCode, 201, pushed.body);
    await h.signIn('admin', ADMIN_PASSWORD);
  });

  after(async () => {
    await h?.close();
    delete process.env['CANOPY_ARTIFACTS_DIR'];
    rmSync(store, { recursive: true, force: true });
  });

  test('a deployment started from the tab stages on its host, and pauses, resumes and stops from the tab', async () => {
    const page = h.page;
    await page.goto(`${h.base}/nodes/dweb.app?tab=deploy`);
    await page.getByTestId(`running-${HOST}`).filter({ hasText: `${HOST}: nothing` }).waitFor();

    const panel = await deployFromTab(h, async (dialog) => {
      await dialog.getByTestId('deploy-batch-preview').filter({ hasText: '1 host in 1 batch: 1' }).waitFor();
      await dialog.getByLabel('Reason').fill('first release');
    });
    await panel.getByTestId('deploy-state').filter({ hasText: 'staging' }).waitFor();
    await panel.getByTestId(`host-state-${HOST}`).filter({ hasText: 'staging' }).waitFor();
    const [made] = (await h.call('GET', '/deployments?node=dweb.app')).items;
    assert.equal(made.version, '1.0.0');
    assert.equal(made.createdBy, 'admin');
    assert.deepEqual(made.strategy, { batch: 1, canary: false, order: 'stop-first', failureAction: 'pause', maxFailureRatio: 0, monitorSeconds: 5, availabilityCheck: true, delaySeconds: 0, healthTimeoutSeconds: 300 });
    await panel.getByTestId('batch-0').waitFor();

    // The host's row opens its task log; nothing is logged without an agent.
    await panel.getByTestId('deploy-hosts').locator('.ant-table-row').filter({ hasText: HOST }).click();
    await panel.getByTestId(`host-log-${HOST}`).getByTestId('host-log-text').waitFor();

    await panel.getByTestId('deploy-pause').click();
    await panel.getByTestId('deploy-state').filter({ hasText: 'paused' }).waitFor();
    await panel.getByTestId('deploy-reason').filter({ hasText: 'paused by admin' }).waitFor();
    assert.equal(await panel.getByTestId('deploy-pause').count(), 0, 'a paused deployment offers no pause');
    await panel.getByTestId('deploy-resume').click();
    await panel.getByTestId('deploy-state').filter({ hasText: 'staging' }).waitFor();

    await panel.getByTestId('deploy-stop').click();
    await h.confirm('Stop');
    await panel.getByTestId('deploy-state').filter({ hasText: 'stopped' }).waitFor();
    await panel.getByTestId(`host-state-${HOST}`).filter({ hasText: 'skipped' }).waitFor();
    await panel.getByTestId('deploy-feed').filter({ hasText: 'finished' }).waitFor();
    assert.equal((await h.call('GET', `/deployments/${made.id}`)).state, 'stopped');
    await page.getByTestId('deploy-history').locator('.ant-table-row').filter({ hasText: `#${made.id}` }).getByText('stopped', { exact: true }).waitFor();
    assert.deepEqual(h.pageErrors, []);
  });

  test('with approval required, the dialog’s strategy is sent and approving one’s own deployment shows the refusal', async () => {
    const page = h.page;
    await h.call('PUT', '/nodes/dweb.app/deploy-policy', { requireApproval: true });
    await page.goto(`${h.base}/nodes/dweb.app?tab=deploy`);
    await page.getByTestId('deploy-policy').filter({ hasText: 'needs approval' }).waitFor();

    const panel = await deployFromTab(h, async (dialog) => {
      await dialog.getByLabel('Batch size').fill('50%');
      await dialog.getByText('Wait for resume').click();
      await dialog.getByText('Roll back', { exact: true }).click();
      await dialog.getByLabel('Max failure ratio').fill('25');
      await dialog.getByTestId('deploy-availability-check').click();
    });
    await panel.getByTestId('deploy-state').filter({ hasText: 'awaiting approval' }).waitFor();
    const [made] = (await h.call('GET', '/deployments?node=dweb.app')).items;
    assert.equal(made.state, 'awaiting-approval');
    assert.deepEqual([made.strategy.batch, made.strategy.canary, made.strategy.failureAction, made.strategy.maxFailureRatio, made.strategy.availabilityCheck], ['50%', {}, 'rollback', 0.25, false]);

    await panel.getByTestId('deploy-approve').click();
    await panel.getByTestId('deploy-action-error').filter({ hasText: 'needs a second person to approve it' }).waitFor();
    assert.equal((await h.call('GET', `/deployments/${made.id}`)).state, 'awaiting-approval', 'the refusal changed nothing');

    await panel.getByTestId('deploy-stop').click();
    await h.confirm('Stop');
    await panel.getByTestId('deploy-state').filter({ hasText: 'stopped' }).waitFor();
    assert.deepEqual(h.pageErrors, []);
  });
});
