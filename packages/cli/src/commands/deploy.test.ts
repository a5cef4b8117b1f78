/**
 * `canopy deploy …` as a subprocess against a live server. Its machines have no agent, so a
 * deployment waits at staging: what the CLI shows and controls is the control center's state
 * (agents running deployments for real are releases/rollout.test.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNode, CLI_MAIN, startCliServer, type CliServer } from '../cli-harness.test-util.ts';

describe('canopy deploy against a live server', () => {
  let c: CliServer;
  const store = mkdtempSync(join(tmpdir(), 'canopy-cli-deploy-artifacts-'));
  const canopy = (args: string[]) =>
    runNode(CLI_MAIN, args, { env: { PATH: process.env['PATH'], HOME: c.dir, CANOPY_CONFIG: join(c.dir, 'none.json'), CANOPY_URL: c.url, CANOPY_TOKEN: c.token }, cwd: c.dir });
  const count = async () => (await c.s.call('GET', '/api/v1/deployments?node=cd.web')).body.items.length as number;

  before(async () => {
    process.env['CANOPY_ARTIFACTS_DIR'] = store;
    c = await startCliServer('deploy');
    for (const [parentPath, name] of [[null, 'cd'], ['cd', 'web'], ['cd', 'idle']] as const) assert.ok((await c.s.call('POST', '/api/v1/nodes', { parentPath, name })).status < 300);
    for (const h of ['cd-web-1', 'cd-web-2']) assert.equal((await c.s.call('POST', '/api/v1/machines', { hostname: h, ips: ['198.51.100.40'], nodes: ['cd.web'] })).status, 201);
    for (const node of ['cd.web', 'cd.idle']) {
      const declared = await c.s.call('PUT', `/api/v1/nodes/${node}/process`, { argv: ['/bin/sleep', '600'], deployed: true });
      assert.equal(declared.status, 201, JSON.stringify(declared.body));
      const body = Buffer.from(`artifact of ${node}`);
      const sha = createHash('sha256').update(body).digest('hex');
      const put = await c.s.app.inject({ method: 'PUT', url: `/api/v1/artifacts/${node}/1.0.0?sha256=${sha}`, payload: body, headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/octet-stream' } });
      assert.equal(put.statusCode, 201, put.body);
    }
  });
  after(async () => {
    await c.s.close();
    delete process.env['CANOPY_ARTIFACTS_DIR'];
    rmSync(c.dir, { recursive: true, force: true });
    rmSync(store, { recursive: true, force: true });
  });

  test('a bad flag is one clear line and creates nothing', async () => {
    for (const [args, says] of [
      [['--batch', 'lots'], /--batch/],
      [['--on-failure', 'shrug'], /--on-failure/],
      [['--monitor', '-3'], /--monitor '-3' must be a number/],
    ] as const) {
      const r = await canopy(['deploy', 'run', 'cd.web', '1.0.0', ...args]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, says);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    const unknown = await canopy(['deploy', 'run', 'cd.web', '9.9.9']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /9\.9\.9/);
    assert.equal(await count(), 0);
  });

  test('run prints the deployment; ls, show, log, pause, resume and stop act on it; --json is the API view', async () => {
    const run = await canopy(['deploy', 'run', 'cd.web', '1.0.0', '--batch', '1', '--reason', 'first release', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const d = JSON.parse(run.stdout) as { id: number; state: string; batches: number[]; hosts: { hostname: string }[] };
    assert.deepEqual([d.batches, d.hosts.map((h) => h.hostname).sort()], [[1, 1], ['cd-web-1', 'cd-web-2']]);
    const again = await canopy(['deploy', 'run', 'cd.web', '1.0.0']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`deployment #${d.id} of cd\\.web is staging: pause, stop or finish it first`));
    const ls = await canopy(['deploy', 'ls', '--under', 'cd.web']);
    assert.match(ls.stdout, new RegExp(`^${d.id} +cd\\.web +1\\.0\\.0 +\\S+ +2 `, 'm'));
    const show = await canopy(['deploy', 'show', String(d.id)]);
    assert.match(show.stdout, /^strategy: +batch 1, /m);
    assert.match(show.stdout, /^cd-web-1 +[12] /m);
    assert.equal((await canopy(['deploy', 'log', String(d.id), '--host', 'cd-web-1'])).code, 0);
    const paused = await canopy(['deploy', 'pause', String(d.id)]);
    assert.match(paused.stdout, new RegExp(`deployment ${d.id} of cd\\.web@1\\.0\\.0 paused`));
    // --follow stops at a pause: exit 1, and stderr says how to go on.
    const follow = await canopy(['deploy', 'show', String(d.id), '--follow']);
    assert.equal(follow.code, 1);
    assert.match(follow.stderr, new RegExp(`canopy deploy resume ${d.id}`));
    assert.match(JSON.parse((await canopy(['deploy', 'resume', String(d.id), '--json'])).stdout).state, /^(staging|running)$/);
    const approve = await canopy(['deploy', 'approve', String(d.id)]);
    assert.equal(approve.code, 1);
    const stopped = JSON.parse((await canopy(['deploy', 'stop', String(d.id), '--json'])).stdout) as { state: string };
    assert.match(stopped.state, /^stopp(ing|ed)$/); // stopping until the hosts' agents drop what they staged
    // The version each host's process task is meant to run, and that nothing runs it (no agent).
    const where = JSON.parse((await canopy(['deploy', 'where', 'cd.web', '--json'])).stdout) as { hostname: string; version: string | null; state: string }[];
    assert.deepEqual(where.map((h) => [h.hostname, h.version]).sort(), [['cd-web-1', '1.0.0'], ['cd-web-2', '1.0.0']]);
    assert.ok(where.every((h) => h.state !== 'running'), JSON.stringify(where));
    assert.match((await canopy(['deploy', 'where', 'cd.web'])).stdout, /^cd-web-1 +1\.0\.0 +\S+/m);
    assert.equal((await canopy(['deploy', 'show', 'x1'])).code, 1);
  });

  test('run --follow on a node without hosts ends at once: exit 0, the final deployment on stdout with --json', async () => {
    const r = await canopy(['deploy', 'run', 'cd.idle', '1.0.0', '--follow', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { state: string }).state, 'succeeded');
  });

  test('policy reads and sets whether a second person approves, inherited below', async () => {
    assert.match((await canopy(['deploy', 'policy', 'cd'])).stdout, /^cd: approval not required/);
    assert.equal((await canopy(['deploy', 'policy', 'cd', '--require-approval', 'true'])).code, 0);
    assert.match((await canopy(['deploy', 'policy', 'cd.web'])).stdout, /^cd\.web: approval required \(inherited\)/);
    const bad = await canopy(['deploy', 'policy', 'cd', '--require-approval', 'maybe']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /true, false or inherit/);
    const waiting = JSON.parse((await canopy(['deploy', 'run', 'cd.idle', '1.0.0', '--json'])).stdout) as { id: number; state: string };
    assert.equal(waiting.state, 'awaiting-approval');
    const own = await canopy(['deploy', 'approve', String(waiting.id)]);
    assert.equal(own.code, 1);
    assert.match(own.stderr, /approve/i);
    assert.equal((await canopy(['deploy', 'policy', 'cd', '--require-approval', 'inherit', '--json'])).code, 0);
  });
});
