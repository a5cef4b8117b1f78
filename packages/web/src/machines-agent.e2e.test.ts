/**
 * A machine's agent in a real browser, with a real `canopy-agent` on this machine (loopback): the
 * Machines tab shows it connected with its last heartbeat and version, the machine's drawer shows
 * the facts it reported, a machine no agent ever reached reads "never enrolled", and a reboot job's
 * detail shows the host's downtime (the agent's "reboot" writes a new boot id and kills it; it is
 * started again as systemd would).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD } from '../../server/src/testing/index.ts';
import { localHost, startAgent, until, type RunningAgent } from '../../agent/src/testing.ts';
import { ROOT, chromiumMissing, startConsoleE2E, type ConsoleE2E } from './e2e-harness.test-util.ts';

const OUT = join(ROOT, '.cache/web-e2e-machines-agent');
const HOST = 'agent-web-1';

describe('machine agents in Chromium', { skip: chromiumMissing }, () => {
  let h: ConsoleE2E;
  let page: ConsoleE2E['page'];
  let dir: string;
  let agent: RunningAgent | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'canopy-web-agent-'));
    const bootFile = join(dir, 'boot-id');
    writeFileSync(bootFile, `${randomUUID()}\n`);
    writeFileSync(join(dir, 'reboot.sh'), 'cat /proc/sys/kernel/random/uuid > "$1"\nkill -9 $PPID\n', { mode: 0o755 });
    h = await startConsoleE2E(OUT);
    page = h.page;
    await h.call('POST', '/nodes', { parentPath: null, name: 'fleet' });
    await h.call('POST', '/machines', { hostname: HOST, ips: ['10.78.0.1'], nodes: ['fleet'], status: 'online' });
    await h.call('POST', '/machines', { hostname: 'no-agent-web', ips: ['10.78.0.2'], nodes: ['fleet'], status: 'online' });
    const { token } = await h.call('POST', `/machines/${HOST}/credentials`, { name: 'agent' });
    const args = ['--boot-id-file', bootFile, '--reboot-command', JSON.stringify(['/bin/sh', join(dir, 'reboot.sh'), bootFile])];
    agent = startAgent(localHost(HOST), h.base, token, undefined, { args, restartOnExitMs: 1500 });
    await until('the agent connected', async () => (await h.call('GET', `/machines/${HOST}`)).agent?.state === 'connected', 60_000);
    await h.signIn('admin', ADMIN_PASSWORD);
  });

  after(async () => {
    await agent?.stop();
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the Machines tab shows the agent connected with its last heartbeat and version; the drawer shows its facts', async () => {
    await page.goto(`${h.base}/nodes/fleet?tab=machines`);
    const row = page.locator('.ant-table-row').filter({ hasText: HOST });
    await row.getByTestId('agent-state').filter({ hasText: 'connected' }).waitFor();
    assert.match(await row.getByTestId('agent-heartbeat').innerText(), /\d+ (s|min) ago/);
    const version = (await h.call('GET', `/machines/${HOST}`)).agent.version as string;
    await row.getByText(version, { exact: true }).waitFor();
    const none = page.locator('.ant-table-row').filter({ hasText: 'no-agent-web' });
    await none.getByTestId('agent-state').filter({ hasText: 'never enrolled' }).waitFor();

    await row.getByRole('button', { name: HOST }).click();
    const drawer = page.getByTestId('machine-detail');
    await drawer.waitFor();
    const facts = drawer.getByTestId('agent-facts');
    await facts.getByText(HOST, { exact: true }).waitFor();
    assert.match(await facts.innerText(), /bootId/);
    assert.match(await drawer.getByTestId('machine-agent').innerText(), new RegExp(version.replaceAll('.', '\\.')));
    assert.deepEqual(h.pageErrors, []);
  });

  test("a reboot job's detail shows the host's downtime once its agent is back", async () => {
    const job = await h.call('POST', '/jobs', { kind: 'reboot', target: { under: 'fleet', hosts: [HOST] } });
    await page.goto(`${h.base}/nodes/fleet?tab=jobs`);
    await page.getByText(`#${job.id}`, { exact: true }).click();
    const detail = page.getByTestId('job-detail');
    await detail.getByTestId('job-state').filter({ hasText: 'succeeded' }).waitFor({ timeout: 60_000 });
    const shown = await detail.getByTestId('host-downtime').innerText();
    const { hosts } = await h.call('GET', `/jobs/${job.id}`);
    assert.equal(shown, `${hosts[0].downtimeSeconds} s`);
    assert.ok(hosts[0].downtimeSeconds >= 1);
    assert.equal(agent!.restarts, 1);
    assert.deepEqual(h.pageErrors, []);
  });
});
