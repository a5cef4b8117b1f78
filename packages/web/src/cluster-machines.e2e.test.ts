/**
 * A cluster's per-machine versions in a real browser: a real `canopy-agent` on this machine manages
 * a real nginx (loopback, temp prefix) for machine edge-web-1; edge-web-2 has no agent. The
 * "Machine versions" tab of the cluster shows edge-web-1 current after v1, then failed (with nginx's output)
 * on a version its own nginx -t refuses, and edge-web-2 flagged lagging.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, type TestHost } from '../../server/src/testing/index.ts';
import { findProgram, freePorts } from '../../server/src/nginx/index.ts';
import { startAgent, until, type RunningAgent } from '../../agent/src/testing.ts';
import { ROOT, chromiumMissing, startConsoleE2E, type ConsoleE2E } from './e2e-harness.test-util.ts';

const OUT = join(ROOT, '.cache/web-e2e-cluster-machines');
const SHOT = '/tmp/canopy-cluster-machines.png';
const NGINX = findProgram('nginx');
const skip = chromiumMissing || (NGINX ? false : 'SKIPPED: nginx not installed (apt-get install nginx-light)');

function localHost(hostname: string): TestHost {
  const never = () => {
    throw new Error('not used here');
  };
  return { index: 0, hostname, address: '127.0.0.1', netns: '', spawn: (argv, opts = {}) => spawn(argv[0]!, argv.slice(1), opts), run: never, setLink: never };
}

describe('cluster machines in Chromium', { skip }, () => {
  let h: ConsoleE2E;
  let dir = '';
  let nginx: ChildProcess | undefined;
  let backend: Server | undefined;
  let agent: RunningAgent | undefined;
  const machines = () => h.call('GET', '/nginx/clusters/edge/machines');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'canopy-web-cluster-'));
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'tmp'));
    mkdirSync(join(dir, 'conf.d'));
    const [port, backendPort] = (await freePorts(2)) as [number, number];
    backend = createServer((_, res) => res.end('app')).listen(backendPort, '127.0.0.1');
    const q = (p: string) => JSON.stringify(p);
    writeFileSync(join(dir, 'nginx.conf'), [
      'worker_processes 1;', `pid ${q(join(dir, 'nginx.pid'))};`, `error_log ${q(join(dir, 'error.log'))} notice;`, 'events { worker_connections 64; }', 'http {',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${q(join(dir, 'tmp', t))};`),
      '  access_log off;', '  upstream legacy_pool { server 127.0.0.1:9; }', `  include ${q(join(dir, 'conf.d', '*.conf'))};`, '}', '',
    ].join('\n'));
    nginx = spawn(NGINX!, ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'], { stdio: 'ignore' });
    await until('nginx', () => existsSync(join(dir, 'nginx.pid')), 10_000);

    h = await startConsoleE2E(OUT);
    await h.call('POST', '/nodes', { parentPath: null, name: 'edge' });
    await h.call('POST', '/nodes', { parentPath: null, name: 'app' });
    for (const m of ['edge-web-1', 'edge-web-2']) await h.call('POST', '/machines', { hostname: m, ips: ['127.0.0.1'], nodes: ['edge'], status: 'online' });
    await h.call('POST', '/machines', { hostname: 'app-1', ips: ['127.0.0.1'], nodes: ['app'], status: 'online' });
    await h.call('PUT', '/services/app', { ports: [{ name: 'http', port: backendPort }] });
    await h.call('PUT', `/services/app/instances/app-1/${backendPort}`, {});
    await h.call('PUT', '/domains/web.test', { ports: [{ port }] });
    await h.call('PUT', '/nodes/app/nginx', { domainUris: [{ domain: 'web.test', uri: '/' }], port: backendPort });
    await h.call('PUT', '/nginx/clusters/edge', { domains: ['web.test'], listenAddress: '127.0.0.1' });
    const { token } = await h.call('POST', '/machines/edge-web-1/credentials', { name: 'agent' });
    const args = ['--nginx-conf', join(dir, 'nginx.conf'), '--nginx-include-dir', join(dir, 'conf.d'), '--nginx-bin', NGINX!, '--nginx-pid', join(dir, 'nginx.pid')];
    agent = startAgent(localHost('edge-web-1'), h.base, token, undefined, { args });
    await until('the agent connected', async () => (await h.call('GET', '/machines/edge-web-1')).agent?.state === 'connected', 60_000);
    await h.signIn('admin', ADMIN_PASSWORD);
  });

  after(async () => {
    await agent?.stop();
    await h?.close();
    if (nginx && nginx.exitCode === null && nginx.signalCode === null) {
      const exited = new Promise((r) => nginx!.once('exit', r));
      nginx.kill('SIGTERM');
      await exited;
    }
    await new Promise((r) => (backend ? backend.close(r) : r(undefined)));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the Machine versions tab shows the version each machine runs, then the failure and the lagging machine', async () => {
    await h.call('POST', '/nginx/clusters/edge/apply', { reason: 'v1' });
    await until('edge-web-1 at v1', async () => (await machines()).machines[0].state === 'current', 60_000);
    const page = h.page;
    await page.goto(`${h.base}/nodes/edge?tab=nginx`);
    await page.getByRole('tab', { name: 'Machine versions' }).click();
    await page.getByTestId('machine-state-edge-web-1').filter({ hasText: 'current' }).waitFor();
    await page.getByTestId('machine-state-edge-web-2').filter({ hasText: 'applying' }).waitFor(); // its task waits for an agent

    await h.call('POST', '/nodes', { parentPath: null, name: 'legacy' });
    await h.call('PUT', '/nodes/legacy/nginx', { domainUris: [{ domain: 'web.test', uri: '/legacy' }], port: 9000, upstream: 'legacy_pool' });
    await h.call('POST', '/nginx/clusters/edge/apply', { reason: 'collides with the machine’s own upstream' });
    await page.getByTestId('machine-state-edge-web-1').filter({ hasText: 'failed' }).waitFor({ timeout: 60_000 });
    await page.getByTestId('machine-state-edge-web-2').filter({ hasText: 'lagging' }).waitFor();
    await page.getByTestId('rollout-state').filter({ hasText: /v2 stopped/ }).waitFor();
    const row = page.locator('.ant-table-row').filter({ hasText: 'edge-web-1' });
    assert.match(await row.innerText(), /v1/);
    await row.locator('.ant-table-row-expand-icon').click();
    await page.getByTestId('program-output').filter({ hasText: 'duplicate upstream "legacy_pool"' }).waitFor();
    await page.screenshot({ path: SHOT, fullPage: true });
    assert.deepEqual(h.pageErrors, []);
  });
});
