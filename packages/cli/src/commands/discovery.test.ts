/**
 * `canopy discovery …` against a live server, run as the user runs it: the README's register
 * command (no SDK callback anywhere), and the service and alias commands an operator uses daily.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkMachine, mkService } from '../../../server/src/discovery/fixtures.test-util.ts';
import { CLI_MAIN, NODE, runNode, startCliServer, type CliServer } from '../cli-harness.test-util.ts';
import { until } from '../../../sdk/src/discovery/until.test-util.ts';

describe('canopy discovery against a live server', () => {
  let c: CliServer;
  const env = () => ({ PATH: process.env['PATH'], HOME: c.dir, CANOPY_URL: c.url, CANOPY_TOKEN: c.token });
  const canopy = (args: string[]) => runNode(CLI_MAIN, args, { env: env(), cwd: c.dir });
  const okJson = async (args: string[]) => {
    const r = await canopy([...args, '--json']);
    assert.equal(r.code, 0, `canopy ${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };

  before(async () => {
    c = await startCliServer('discovery');
  });
  after(async () => {
    await c.s.close();
    rmSync(c.dir, { recursive: true, force: true });
  });

  test('service set/ls/show/rm and alias set/ls/rm manage discovery without curl, with --json everywhere', async () => {
    await c.s.call('POST', '/api/v1/nodes', { parentPath: null, name: 'cs' });
    await c.s.call('POST', '/api/v1/nodes', { parentPath: 'cs', name: 'api' });
    await c.s.call('POST', '/api/v1/nodes', { parentPath: 'cs', name: 'front' });
    const missing = await canopy(['discovery', 'service', 'set', 'cs.api']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /name its ports with --port/);
    const made = await okJson(['discovery', 'service', 'set', 'cs.api', '--port', 'http:8080', '--lb', 'random']);
    assert.deepEqual([made.path, made.ports, made.lb.algorithm], ['cs.api', [{ name: 'http', port: 8080 }], 'random']);
    // A later set changes only what it names: ports and algorithm stay.
    const changed = await okJson(['discovery', 'service', 'set', 'cs.api', '--protect-threshold', '0.5']);
    assert.deepEqual([changed.ports, changed.lb.algorithm, changed.protectThreshold], [[{ name: 'http', port: 8080 }], 'random', 0.5]);
    const bad = await canopy(['discovery', 'service', 'set', 'cs.api', '--lb', 'fastest']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--lb/, 'the error names the flag');
    assert.doesNotMatch(bad.stderr, /body\./);
    const listed = await okJson(['discovery', 'service', 'ls', '--under', 'cs']);
    assert.deepEqual(listed.map((x: { path: string }) => x.path), ['cs.api']);
    const table = await canopy(['discovery', 'service', 'ls', '--under', 'cs']);
    assert.match(table.stdout, /^cs\.api +http:8080 +random +0\/0$/m);
    assert.match((await canopy(['discovery', 'service', 'show', 'cs.api'])).stdout, /protect threshold: +0\.5/);

    const alias = await okJson(['discovery', 'alias', 'set', 'cs.front', 'cs.api']);
    assert.deepEqual([alias.path, alias.resolvesTo], ['cs.front', 'cs.api']);
    assert.deepEqual((await okJson(['discovery', 'alias', 'ls', '--under', 'cs'])).map((a: { path: string }) => a.path), ['cs.front']);
    const refused = await canopy(['discovery', 'service', 'rm', 'cs.api']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /aliases still name 'cs\.api': cs\.front/);
    assert.equal((await canopy(['discovery', 'alias', 'rm', 'cs.front'])).code, 0);
    assert.deepEqual(await okJson(['discovery', 'alias', 'ls', '--under', 'cs']), []);
    const rm = await canopy(['discovery', 'service', 'rm', 'cs.api']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal((await c.s.call('GET', '/api/v1/services/cs.api')).status, 404);
  });

  test("the README's `discovery register … --ttl N` keeps the instance passing past several TTLs, then drains and deregisters on SIGTERM", async () => {
    await mkService(c.s, 'readme.api');
    await mkMachine(c.s, 'readme-1.example', '10.71.0.1', ['readme.api']);
    const credential = (await c.s.call('POST', '/api/v1/machines/readme-1.example/credentials', { name: 'agent' })).body.token as string;
    const child = spawn(NODE, [CLI_MAIN, 'discovery', 'register', 'readme.api', 'readme-1.example', '8080', '--ttl', '1', '--drain', '0'], {
      env: { ...env(), CANOPY_TOKEN: credential },
      cwd: c.dir,
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const instance = () => c.s.call('GET', '/api/v1/services/readme.api/instances/readme-1.example/8080');
      await until('registered', async () => (await instance()).status === 200);
      const id = (await instance()).body.id as number;
      const { health } = c.s.services.discovery;
      // Heartbeats go every third of the TTL: nine passes span three TTLs. Each round sweeps for
      // lapsed TTLs first, so a command that never heartbeats turns critical here and fails at once.
      await until('nine heartbeats or a lapse', async () => {
        await health.sweep();
        return (await instance()).body.health === 'critical' || health.counters(id).passes >= 9;
      });
      await health.sweep();
      const now = await instance();
      assert.equal(now.body.health, 'passing', `the instance lapsed: ${stderr}`);
      assert.ok(health.counters(id).passes >= 9);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /deregistered readme\.api readme-1\.example:8080/);
    assert.equal((await c.s.call('GET', '/api/v1/services/readme.api/instances/readme-1.example/8080')).status, 404);
  });
});
