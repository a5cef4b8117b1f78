/** `canopy cron ls|set|rm|runs` as a subprocess against a live server. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runNode, CLI_MAIN, startCliServer, type CliServer } from '../cli-harness.test-util.ts';

describe('canopy cron against a live server', () => {
  let c: CliServer;
  let machineId: number;
  const canopy = (args: string[]) =>
    runNode(CLI_MAIN, args, { env: { PATH: process.env['PATH'], HOME: c.dir, CANOPY_CONFIG: join(c.dir, 'none.json'), CANOPY_URL: c.url, CANOPY_TOKEN: c.token }, cwd: c.dir });

  before(async () => {
    c = await startCliServer('cron');
    await c.s.call('POST', '/api/v1/nodes', { parentPath: null, name: 'cc' });
    await c.s.call('POST', '/api/v1/nodes', { parentPath: 'cc', name: 'web' });
    machineId = (await c.s.call('POST', '/api/v1/machines', { hostname: 'cc-1.example', nodes: ['cc.web'], status: 'online' })).body.id;
  });
  after(async () => {
    await c.s.close();
    rmSync(c.dir, { recursive: true, force: true });
  });

  test('set on a node, seen below it with where it comes from; a script from a file; disable below', async () => {
    const set = await canopy(['cron', 'set', 'rotate', '--under', 'cc', '--schedule', '0 * * * *', '--overlap', 'queue-one', '--', 'logrotate', '/etc/logrotate.conf']);
    assert.equal(set.code, 0, set.stderr);
    writeFileSync(join(c.dir, 'backup.sh'), 'tar czf /tmp/etc.tgz /etc\n');
    const script = await canopy(['cron', 'set', 'backup', '--under', 'cc', '--schedule', '30 2 * * *', '--tz', 'Europe/Paris', '--script', join(c.dir, 'backup.sh'), '--json']);
    assert.equal(script.code, 0, script.stderr);
    assert.equal(JSON.parse(script.stdout).entries.find((e: { name: string }) => e.name === 'backup').spec.script, 'tar czf /tmp/etc.tgz /etc\n');

    const ls = await canopy(['cron', 'ls', '--under', 'cc.web']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /^rotate +0 \* \* \* \* +UTC +queue-one +root +cc +\S+/m);
    assert.match(ls.stdout, /^backup +30 2 \* \* \* +Europe\/Paris +skip +root +cc /m);

    assert.equal((await canopy(['cron', 'set', 'backup', '--under', 'cc.web', '--disable'])).code, 0);
    const json = JSON.parse((await canopy(['cron', 'ls', '--under', 'cc.web', '--json'])).stdout);
    assert.deepEqual(json.entries.map((e: { name: string }) => e.name), ['rotate']);
    assert.deepEqual(json.disabled, [{ name: 'backup', disabledAt: 'cc.web', from: 'cc', own: true }]);
    assert.match((await canopy(['cron', 'ls', '--under', 'cc.web'])).stdout, /disabled: backup \(from cc\) at cc\.web/);

    const rm = await canopy(['cron', 'rm', 'backup', '--under', 'cc.web', '--json']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.deepEqual(JSON.parse(rm.stdout), { removed: 'backup', node: 'cc.web' });
    assert.equal(JSON.parse((await canopy(['cron', 'ls', '--under', 'cc.web', '--json'])).stdout).entries.length, 2);
  });

  test('runs lists the history newest first and --id shows one with its output', async () => {
    const id = randomUUID();
    await c.s.services.cron.handleRuns({ machineId }, { runs: [{ id, key: '1/rotate', name: 'rotate', node: 'cc', state: 'failed', scheduledAt: '2026-12-03T10:00:00.000Z', startedAt: '2026-12-03T10:00:00.000Z', endedAt: '2026-12-03T10:00:02.000Z', exitCode: 1, reason: 'exit status 1', stdout: 'rotating\n', stderr: 'error: no space\n', truncated: 0 }] });
    const runs = await canopy(['cron', 'runs', 'rotate', '--under', 'cc']);
    assert.equal(runs.code, 0, runs.stderr);
    assert.match(runs.stdout, new RegExp(`^${id} +cc-1\\.example +failed +1 +2026-12-03 10:00:00Z +2000 +exit status 1$`, 'm'));
    const one = await canopy(['cron', 'runs', 'rotate', '--under', 'cc.web', '--id', id]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout, `run ${id} of rotate on cc-1.example: failed, exit 1 (exit status 1)\nrotating\n--- stderr\nerror: no space\n`);
    assert.equal(JSON.parse((await canopy(['cron', 'runs', 'rotate', '--under', 'cc', '--json'])).stdout)[0].id, id);
  });

  test('mistakes are one clear line and exit 1', async () => {
    const cases: [string[], RegExp][] = [
      [['cron', 'ls'], /--under PATH/],
      [['cron', 'set', 'x', '--under', 'cc', '--', 'true'], /--schedule/],
      [['cron', 'set', 'x', '--under', 'cc', '--schedule', '* * * * *'], /command after --/],
      [['cron', 'set', 'x', '--under', 'cc', '--schedule', '99 * * * *', '--', 'true'], /schedule/],
      [['cron', 'set', 'x', '--under', 'cc', '--schedule', '* * * * *', '--timeout', 'soon', '--', 'true'], /--timeout 'soon' must be a whole number/],
      [['cron', 'rm', 'nope', '--under', 'cc'], /not found/],
    ];
    for (const [args, why] of cases) {
      const r = await canopy(args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, why, args.join(' '));
    }
  });
});
