/**
 * The Artifacts tab in a real browser: an operator sees a pushed version, uploads a new one from
 * the tab (hashed in the page, checked by the server), opens its details, downloads it with the
 * session cookie, and removes the older version.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD } from '../../../../server/src/testing/index.ts';
import { ROOT, chromiumMissing, startConsoleE2E, type ConsoleE2E } from '../../e2e-harness.test-util.ts';

const OUT = join(ROOT, '.cache/web-e2e-artifacts');

describe('artifacts in Chromium', { skip: chromiumMissing }, () => {
  let h: ConsoleE2E;
  const store = mkdtempSync(join(tmpdir(), 'canopy-artifacts-e2e-'));

  before(async () => {
    // The server of this process reads its artifact settings from the environment as it starts.
    process.env['CANOPY_ARTIFACTS_DIR'] = store;
    h = await startConsoleE2E(OUT);
    for (const [parentPath, name] of [[null, 'aweb'], ['aweb', 'app']] as const) await h.call('POST', '/nodes', { parentPath, name });
    const pushed = await h.app.inject({ method: 'PUT', url: '/api/v1/artifacts/aweb.app/1.0.0?commit=abcdef12', payload: randomBytes(5000), headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/octet-stream' } });
    assert.equal(pushed.statusCode, 201, pushed.body);
    await h.signIn('admin', ADMIN_PASSWORD);
  });

  after(async () => {
    await h?.close();
    delete process.env['CANOPY_ARTIFACTS_DIR'];
    rmSync(store, { recursive: true, force: true });
  });

  test('upload, inspect, download and remove versions from the tab', async () => {
    const page = h.page;
    await page.goto(`${h.base}/nodes/aweb.app?tab=artifacts`);
    const list = page.getByTestId('artifact-list');
    await list.locator('.ant-table-row').filter({ hasText: 'abcdef12' }).waitFor();

    const body = randomBytes(300_000);
    await page.getByTestId('artifact-upload').click();
    const dialog = page.getByRole('dialog', { name: 'Upload a version of aweb.app' });
    await dialog.getByTestId('artifact-version').fill('1.1.0');
    await dialog.getByTestId('artifact-file').setInputFiles({ name: 'app.tar.gz', mimeType: 'application/gzip', buffer: body });
    await h.submit(dialog, 'Upload');
    const row = list.locator('.ant-table-row').filter({ hasText: '1.1.0' });
    await row.waitFor();
    const meta = await h.call('GET', '/artifacts/aweb.app/1.1.0/meta');
    assert.equal(meta.sha256, createHash('sha256').update(body).digest('hex'));
    assert.equal(meta.createdBy, 'admin');

    await row.getByText('1.1.0', { exact: true }).click();
    await page.getByTestId('artifact-detail').filter({ hasText: meta.sha256 }).waitFor();
    await page.keyboard.press('Escape');

    const href = await row.getByTestId('artifact-download').getAttribute('href');
    assert.equal(href, '/api/v1/artifacts/aweb.app/1.1.0');
    const got = await page.request.get(`${h.base}${href}`);
    assert.equal(got.status(), 200);
    assert.ok((await got.body()).equals(body), 'the download link serves the uploaded bytes with the session cookie');

    await list.locator('.ant-table-row').filter({ hasText: 'abcdef12' }).getByRole('button', { name: 'Remove' }).click();
    await h.confirm('OK');
    await list.locator('.ant-table-row').filter({ hasText: 'abcdef12' }).waitFor({ state: 'detached' });
    assert.deepEqual((await h.call('GET', '/artifacts/aweb.app')).items.map((a: { version: string }) => a.version), ['1.1.0']);
    assert.deepEqual(h.pageErrors, []);
  });
});
