/**
 * The Builds tab in a real browser, built by a real agent: a `canopy-agent` on this machine
 * (loopback) is the one machine of the build pool. An operator starts a build from the tab, reads
 * its log live while the build waits for a marker file, and sees it succeed with its artifact.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD } from '../../../../server/src/testing/index.ts';
import { localHost, startAgent, until, type RunningAgent } from '../../../../agent/src/testing.ts';
import { ROOT, chromiumMissing, startConsoleE2E, type ConsoleE2E } from '../../e2e-harness.test-util.ts';

const OUT = join(ROOT, '.cache/web-e2e-builds');
const HOST = 'builds-web-1';

describe('builds in Chromium', { skip: chromiumMissing }, () => {
  let h: ConsoleE2E;
  let agent: RunningAgent | undefined;
  const work = mkdtempSync(join(tmpdir(), 'canopy-builds-e2e-'));
  const repo = join(work, 'repo');
  const marker = join(work, 'go');

  before(async () => {
    mkdirSync(repo);
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo });
    git('init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'build.sh'), `set -e\necho "compiling the console test app"\nwhile [ ! -e ${marker} ]; do sleep 0.05; done\nmkdir -p dist\necho ok > dist/index.html\necho "all done"\n`);
    git('add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'one');
    h = await startConsoleE2E(OUT);
    for (const [parentPath, name] of [[null, 'bweb'], ['bweb', 'app'], ['bweb', 'pool']] as const) await h.call('POST', '/nodes', { parentPath, name });
    await h.call('POST', '/machines', { hostname: HOST, ips: ['10.78.0.1'], nodes: ['bweb.pool'], status: 'online' });
    const { token } = await h.call('POST', `/machines/${HOST}/credentials`, { name: 'agent' });
    agent = startAgent(localHost(HOST), h.base, token);
    await h.call('PUT', '/nodes/bweb/build-settings', { pool: 'bweb.pool' });
    await until('the agent connected', async () => (await h.call('GET', '/agents?under=bweb')).items.some((a: { state: string }) => a.state === 'connected'), 60_000);
    await h.signIn('admin', ADMIN_PASSWORD);
  });

  after(async () => {
    await agent?.stop();
    await h?.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('a build started from the tab streams its log live and ends with its artifact', async () => {
    const page = h.page;
    await page.goto(`${h.base}/nodes/bweb.app?tab=builds`);
    await page.getByTestId('build-pool').filter({ hasText: 'machines of bweb.pool (set on bweb)' }).waitFor();
    await page.getByRole('button', { name: 'New build' }).click();
    const dialog = page.getByRole('dialog', { name: 'New build of bweb.app' });
    await dialog.getByLabel('Git repository').fill(`file://${repo}`);
    await dialog.getByLabel('Build command').fill('sh build.sh');
    await dialog.getByLabel('Output directory').fill('dist');
    await dialog.getByLabel('Version').fill('web-1');
    await h.submit(dialog, 'Build');

    const detail = page.getByTestId('build-detail');
    await detail.getByTestId('build-log').filter({ hasText: 'compiling the console test app' }).waitFor();
    assert.equal(await detail.getByTestId('build-state').innerText(), 'running', 'the log line came while the build ran');
    writeFileSync(marker, '');
    await detail.getByTestId('build-state').filter({ hasText: 'succeeded' }).waitFor();
    await detail.getByTestId('build-log').filter({ hasText: 'stored as version web-1' }).waitFor();
    await detail.getByTestId('build-artifact').filter({ hasText: 'bweb.app@web-1' }).waitFor();
    await page.getByRole('button', { name: 'All builds' }).click();
    await page.locator('.ant-table-row').filter({ hasText: 'web-1' }).getByText('succeeded', { exact: true }).waitFor();
    assert.deepEqual(h.pageErrors, []);
  });
});
