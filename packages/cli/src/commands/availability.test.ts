/** `canopy availability` as a subprocess against a live server holding counted traffic. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runNode, CLI_MAIN, startCliServer, type CliServer } from '../cli-harness.test-util.ts';

const SVC = 'avc.shop.web';

describe('canopy availability against a live server', () => {
  let c: CliServer;
  const canopy = (args: string[]) => runNode(CLI_MAIN, args, { env: { PATH: process.env['PATH'], HOME: c.dir, CANOPY_CONFIG: join(c.dir, 'none.json'), CANOPY_URL: c.url, CANOPY_TOKEN: c.token }, cwd: c.dir });

  before(async () => {
    c = await startCliServer('availability');
    for (const name of ['avc', 'avc.shop', SVC]) {
      const [parent, leaf] = name.includes('.') ? [name.slice(0, name.lastIndexOf('.')), name.slice(name.lastIndexOf('.') + 1)] : [null, name];
      await c.s.call('POST', '/api/v1/nodes', { parentPath: parent, name: leaf });
    }
    const m = await c.s.call('POST', '/api/v1/machines', { hostname: 'avc-edge', ips: ['198.18.201.1'], status: 'online' });
    await c.s.services.availability.take({ machineId: m.body.id }, {
      seq: 1, source: 'cli-test', from: Date.now() - 2000, to: Date.now(),
      series: [
        { domain: 'shop.test', location: '/', service: SVC, backend: '', statuses: { '200': 998, '503': 2 }, latency: [0, 0, 1000] },
        { domain: 'shop.test', location: '/', service: SVC, backend: '198.18.201.9:80', statuses: { '200': 998, '503': 2 }, latency: [0, 0, 1000], runs: { lead: 0, longest: 1, trail: 0 } },
      ],
    });
  });
  after(async () => {
    await c.s.close();
    rmSync(c.dir, { recursive: true, force: true });
  });

  test('show prints availability, the SLO budget and the backends; --json the same numbers', async () => {
    const human = await canopy(['availability', 'show', SVC, '--window', '1h']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^availability: +99\.800%$/m);
    assert.match(human.stdout, /^requests: +1000 \(2 failed\)/m);
    assert.match(human.stdout, /^198\.18\.201\.9:80 +- +99\.800% +1000 +2 /m);
    const json = JSON.parse((await canopy(['availability', 'show', SVC, '--window', '1h', '--json'])).stdout);
    assert.deepEqual([json.total, json.failed, json.slo.target], [1000, 2, 0.999]);
    const ls = await canopy(['availability', 'ls', '--under', 'avc', '--json']);
    assert.deepEqual(JSON.parse(ls.stdout).map((i: { path: string; total: number }) => [i.path, i.total]), [[SVC, 1000]]);
  });

  test('set changes the SLO; bad input is refused with a clear message', async () => {
    const set = await canopy(['availability', 'set', SVC, '--slo', '0.99', '--base-ejection', '60', '--json']);
    assert.equal(set.code, 0, set.stderr);
    assert.deepEqual([JSON.parse(set.stdout).settings.slo.target, JSON.parse(set.stdout).settings.ejection.baseEjectionSeconds], [0.99, 60]);
    const badPath = await canopy(['availability', 'show', 'Bad..path']);
    assert.equal(badPath.code, 1);
    assert.match(badPath.stderr, /not a node path/);
    const badWindow = await canopy(['availability', 'show', SVC, '--window', 'forever']);
    assert.match(badWindow.stderr, /must be a duration/);
    const badSlo = await canopy(['availability', 'set', SVC, '--slo', '2']);
    assert.equal(badSlo.code, 1);
    assert.match(badSlo.stderr, /slo/i);
    assert.equal(JSON.parse((await canopy(['availability', 'show', SVC, '--json'])).stdout).settings.slo.target, 0.99, 'nothing changed');
  });
});
