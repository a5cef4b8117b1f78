/** `canopy monitor` as a subprocess against a live server. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runNode, CLI_MAIN, startCliServer, type CliServer } from '../cli-harness.test-util.ts';

describe('canopy monitor against a live server', () => {
  let c: CliServer;
  const canopy = (args: string[]) =>
    runNode(CLI_MAIN, args, { env: { PATH: process.env['PATH'], HOME: c.dir, CANOPY_CONFIG: join(c.dir, 'none.json'), CANOPY_URL: c.url, CANOPY_TOKEN: c.token }, cwd: c.dir });

  before(async () => {
    c = await startCliServer('monitor', { monitor: { recording: { minMachines: 2 } } });
    await c.s.call('POST', '/api/v1/nodes', { parentPath: null, name: 'cm' });
    const ids: number[] = [];
    for (const h of ['cm-1.example', 'cm-2.example']) ids.push((await c.s.call('POST', '/api/v1/machines', { hostname: h, nodes: ['cm'], status: 'online' })).body.id);
    const at = Math.floor(Date.now() / 10_000) * 10_000 - 5_000;
    for (const [i, id] of ids.entries()) await c.s.services.monitor.push(id, { gen: 1, defs: ['node_load1'], samples: [{ at: at - 10_000, v: [i + 1] }, { at, v: [i + 3] }] });
  });
  after(async () => {
    await c.s.close();
    rmSync(c.dir, { recursive: true, force: true });
  });

  test('query prints a table, or the API answer with --json; top and overview', async () => {
    const json = await canopy(['monitor', 'query', '--under', 'cm', '--metric', 'node_load1', '--agg', 'max', '--from', '-5m', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const r = JSON.parse(json.stdout);
    assert.equal(r.machines, 2);
    assert.deepEqual(r.series[0].points.map((p: [number, number]) => p[1]), [2, 4]);
    const text = await canopy(['monitor', 'query', '--under', 'cm', '--metric', 'node_load1', '--by', 'machine', '--from', '-5m']);
    assert.match(text.stdout, /^time +hostname=cm-1\.example +hostname=cm-2\.example$/im);
    assert.match(text.stdout, /Z +3 +4$/m);
    const top = await canopy(['monitor', 'top', '--under', 'cm', '--metric', 'node_load1', '-n', '1']);
    assert.match(top.stdout, /^cm-2\.example +3$/m);
    const ov = await canopy(['monitor', 'overview', '--under', 'cm']);
    assert.match(ov.stdout, /cm: 2 machine\(s\); status: online 2; .*reporting metrics: 2/);
    const bad = await canopy(['monitor', 'query', '--under', 'cm', '--metric', 'node_load1', '--agg', 'median']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /agg/);
    assert.equal((await canopy(['monitor', 'query', '--under', 'cm'])).code, 1, 'a missing --metric is refused');
  });

  test('recording-rules prints the Prometheus rule file of the nodes with enough machines', async () => {
    await c.s.call('POST', '/api/v1/nodes', { parentPath: 'cm', name: 'one' });
    await c.s.call('POST', '/api/v1/machines', { hostname: 'cm-3.example', nodes: ['cm.one'], status: 'online' });
    const r = await canopy(['monitor', 'recording-rules', '--under', 'cm']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^groups:\n {2}- name: "canopy:dashboards:cm"\n {4}interval: 60s\n/);
    assert.match(r.stdout, /record: "canopy_node:instance:node_cpu_utilisation:rate1m:p95"\n {8}expr: "quantile\(0\.95, 1 - avg by \(instance\)/);
    assert.doesNotMatch(r.stdout, /cm\.one/, 'one machine: quick to compute, not recorded');
    assert.equal((await canopy(['monitor', 'recording-rules'])).code, 1, 'a missing --under is refused');
  });

  test('set-rules from a file, then rules shows them with their origin', async () => {
    const file = join(c.dir, 'rules.json');
    writeFileSync(file, JSON.stringify({ rules: [{ name: 'ssh', kind: 'port', port: 22 }, { name: 'errors', kind: 'log', path: '/var/log/app.log', pattern: 'ERROR' }] }));
    const set = await canopy(['monitor', 'set-rules', '--under', 'cm', file]);
    assert.equal(set.code, 0, set.stderr);
    const ls = await canopy(['monitor', 'rules', '--under', 'cm']);
    assert.match(ls.stdout, /^errors +log +\/var\/log\/app\.log ~ ERROR +here$/m);
    assert.match(ls.stdout, /^ssh +port +22 +here$/m);
    assert.equal(JSON.parse((await canopy(['monitor', 'rules', '--under', 'cm', '--json'])).stdout).effective.length, 2);
  });
});
