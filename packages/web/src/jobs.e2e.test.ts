/**
 * Batch jobs in a real browser, run by real agents: three `canopy-agent` processes on this machine
 * (loopback, each claiming its own hostname) hold sessions with the Canopy serving the console.
 * An operator sees them connected in the Machines tab, starts a canary job from the Jobs tab,
 * watches the first host finish and the job pause, resumes it, and reads the grouped output.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_PASSWORD } from '../../server/src/testing/index.ts';
import { localHost, startAgent, until, type RunningAgent } from '../../agent/src/testing.ts';
import { ROOT, chromiumMissing, startConsoleE2E, type ConsoleE2E } from './e2e-harness.test-util.ts';

const OUT = join(ROOT, '.cache/web-e2e-jobs');
const HOSTS = ['jobs-web-1', 'jobs-web-2', 'jobs-web-3'];

describe('batch jobs in Chromium', { skip: chromiumMissing }, () => {
  let h: ConsoleE2E;
  let page: ConsoleE2E['page'];
  const agents: RunningAgent[] = [];

  before(async () => {
    h = await startConsoleE2E(OUT);
    page = h.page;
    await h.call('POST', '/nodes', { parentPath: null, name: 'jobs' });
    await h.call('POST', '/nodes', { parentPath: 'jobs', name: 'web' });
    for (const [i, hostname] of HOSTS.entries()) {
      await h.call('POST', '/machines', { hostname, ips: [`10.77.0.${i + 1}`], nodes: ['jobs.web'], status: 'online' });
      const { token } = await h.call('POST', `/machines/${hostname}/credentials`, { name: 'agent' });
      agents.push(startAgent(localHost(hostname, i), h.base, token));
    }
    await until('every agent connected', async () => {
      const { items } = await h.call('GET', '/agents?under=jobs');
      return items.filter((a: { state: string }) => a.state === 'connected').length === HOSTS.length;
    }, 60_000);
    await h.signIn('admin', ADMIN_PASSWORD);
  });

  after(async () => {
    for (const a of agents) await a.stop();
    await h?.close();
  });

  test('the Machines tab shows each machine’s agent connected', async () => {
    await page.goto(`${h.base}/nodes/jobs.web?tab=machines`);
    for (const hostname of HOSTS) {
      await page.locator('.ant-table-row').filter({ hasText: hostname }).getByText('connected', { exact: true }).waitFor();
    }
  });

  test('a canary job runs on one host, pauses, resumes on the rest, and groups identical output', async () => {
    await page.goto(`${h.base}/nodes/jobs.web?tab=jobs`);
    await page.getByRole('button', { name: 'New job' }).click();
    const dialog = page.getByRole('dialog', { name: 'New job on jobs.web' });
    await dialog.getByRole('textbox', { name: 'Command' }).fill('echo same-on-every-host');
    await dialog.getByLabel('Batch size').fill('1');
    await dialog.getByLabel('Canary').check();
    await h.submit(dialog, 'Run');

    const detail = page.getByTestId('job-detail');
    await detail.waitFor();
    await detail.getByTestId('job-state').filter({ hasText: 'paused' }).waitFor();
    await detail.getByText('Paused:').waitFor();
    await detail.getByTestId('output-group-title').filter({ hasText: '1 host' }).waitFor();
    assert.match(await detail.getByTestId('output-group').first().innerText(), /same-on-every-host/);

    await detail.getByRole('button', { name: 'Resume' }).click();
    await detail.getByTestId('job-state').filter({ hasText: 'succeeded' }).waitFor();
    await detail.getByTestId('output-group-title').filter({ hasText: '3 hosts, same output' }).waitFor();
    assert.equal(await detail.getByTestId('output-group').count(), 1);
    for (const hostname of HOSTS) await detail.locator('.ant-table-row').filter({ hasText: hostname }).getByText('succeeded', { exact: true }).waitFor();
    assert.deepEqual(h.pageErrors, []);
  });

  test('the job list shows the finished job with its counts', async () => {
    await page.getByRole('button', { name: 'All jobs' }).click();
    const row = page.locator('.ant-table-row').filter({ hasText: 'echo same-on-every-host' });
    await row.getByText('succeeded', { exact: true }).waitFor();
    assert.match(await row.innerText(), /3: /);
  });
});
