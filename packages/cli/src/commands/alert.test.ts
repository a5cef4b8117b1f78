/** `canopy alert` as a subprocess against a live server. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runNode, CLI_MAIN, startCliServer, type CliServer } from '../cli-harness.test-util.ts';

describe('canopy alert against a live server', () => {
  let c: CliServer;
  const canopy = (args: string[]) =>
    runNode(CLI_MAIN, args, { env: { PATH: process.env['PATH'], HOME: c.dir, CANOPY_CONFIG: join(c.dir, 'none.json'), CANOPY_URL: c.url, CANOPY_TOKEN: c.token }, cwd: c.dir });

  before(async () => {
    c = await startCliServer('alert');
    await c.s.call('POST', '/api/v1/nodes', { parentPath: null, name: 'ca' });
    await c.s.call('POST', '/api/v1/nodes', { parentPath: 'ca', name: 'db' });
  });
  after(async () => {
    await c.s.close();
    rmSync(c.dir, { recursive: true, force: true });
  });

  test('set-rule from a file; rules shows the override with its origin', async () => {
    const file = join(c.dir, 'disk.json');
    writeFileSync(file, JSON.stringify({ conditions: [{ metric: 'disk_used_percent', fn: 'all(#1)', op: '>', threshold: 90 }], severity: 'critical' }));
    assert.equal((await canopy(['alert', 'set-rule', 'ca', 'disk', file])).code, 0);
    writeFileSync(file, JSON.stringify({ conditions: [{ metric: 'disk_used_percent', fn: 'all(#1)', op: '>', threshold: 95 }] }));
    const set = await canopy(['alert', 'set-rule', 'ca.db', 'disk', file]);
    assert.equal(set.code, 0, set.stderr);
    const rules = await canopy(['alert', 'rules', 'ca.db']);
    assert.match(rules.stdout, /^disk +warning +all\(#1\) disk_used_percent > 95 +here +ca$/m);
    const json = JSON.parse((await canopy(['alert', 'rules', 'ca.db', '--json'])).stdout);
    assert.deepEqual(json.effective.map((e: { name: string; origin: string }) => [e.name, e.origin]), [['disk', 'ca.db']]);
    writeFileSync(file, JSON.stringify({ conditions: [{ metric: 'x', fn: 'all(#0)', op: '>', threshold: 1 }] }));
    const bad = await canopy(['alert', 'set-rule', 'ca', 'disk', file]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /#n must be/);
  });

  test('ls shows a firing alert; ack acknowledges it; silence, silences and unsilence', async () => {
    const id = (await c.s.call('POST', '/api/v1/machines', { hostname: 'ca-db-1.example', nodes: ['ca.db'], status: 'online' })).body.id as number;
    await c.s.services.monitor.push(id, { gen: 1, defs: ['disk_used_percent{mountpoint="/"}'], samples: [{ at: Date.now() - 1000, v: [99] }] });
    await c.s.services.alerts.evaluator.evaluate([id]);
    const ls = await canopy(['alert', 'ls', '--under', 'ca']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /firing +warning +disk +ca-db-1\.example +mountpoint=\/ +ca\.db +ca\.db/);
    const [alert] = JSON.parse((await canopy(['alert', 'ls', '--under', 'ca', '--json'])).stdout).items;
    const ack = await canopy(['alert', 'ack', String(alert.id), '--comment', 'looking', '--json']);
    assert.equal(ack.code, 0, ack.stderr);
    assert.equal(JSON.parse(ack.stdout).ackedBy, 'admin');

    assert.equal((await canopy(['alert', 'silence', '--node', 'ca'])).code, 1, 'a silence needs a comment');
    assert.equal((await canopy(['alert', 'silence', '--node', 'ca', '--for', 'soon', '--comment', 'x'])).code, 1);
    const sil = await canopy(['alert', 'silence', '--node', 'ca', '--rule', 'disk', '--match', 'mountpoint=/', '--for', '1h', '--comment', 'disk swap', '--json']);
    assert.equal(sil.code, 0, sil.stderr);
    const silence = JSON.parse(sil.stdout);
    assert.match((await canopy(['alert', 'ls', '--under', 'ca'])).stdout, /firing \(silenced\)/);
    assert.match((await canopy(['alert', 'silences', '--under', 'ca.db'])).stdout, new RegExp(`^${silence.id} +ca +disk +\\* +mountpoint=/ .* disk swap$`, 'm'));
    assert.equal((await canopy(['alert', 'unsilence', String(silence.id)])).code, 0);
    assert.match((await canopy(['alert', 'silences', '--under', 'ca'])).stdout, /\(none\)/);
    const history = JSON.parse((await canopy(['alert', 'history', '--under', 'ca', '--json'])).stdout);
    assert.equal(history.items.length, 1);
    const exported = await canopy(['alert', 'export', '--under', 'ca']);
    assert.match(exported.stdout, /^groups:\n {2}- name: "canopy:ca:disk"/);
  });
});
