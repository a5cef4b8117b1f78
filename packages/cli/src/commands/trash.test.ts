/** `canopy trash` and the CLI's wording of API errors, as a subprocess against a live server. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runNode, CLI_MAIN, startCliServer, type CliServer } from '../cli-harness.test-util.ts';

describe('canopy trash, machine import notes and flag-named errors against a live server', () => {
  let c: CliServer;
  const canopy = (args: string[], token = c.token) =>
    runNode(CLI_MAIN, args, { env: { PATH: process.env['PATH'], HOME: c.dir, CANOPY_CONFIG: join(c.dir, 'none.json'), CANOPY_URL: c.url, CANOPY_TOKEN: token }, cwd: c.dir });

  before(async () => {
    c = await startCliServer('trash');
  });
  after(async () => {
    await c.s.close();
    rmSync(c.dir, { recursive: true, force: true });
  });

  test('trash ls shows a deleted node and where it would come back; trash restore brings it back', async () => {
    await c.s.call('POST', '/api/v1/nodes', { parentPath: null, name: 'tr' });
    await c.s.call('POST', '/api/v1/nodes', { parentPath: 'tr', name: 'gone' });
    assert.equal((await c.s.call('DELETE', '/api/v1/nodes/tr.gone')).status, 204);
    const ls = await canopy(['trash', 'ls']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /^\d+ +tr\.gone +tr\.gone +\S+$/m);
    const items = JSON.parse((await canopy(['trash', 'ls', '--json'])).stdout) as { id: number; path: string }[];
    const entry = items.find((t) => t.path === 'tr.gone');
    assert.ok(entry);
    const bad = await canopy(['trash', 'restore', 'x1']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /<id> 'x1' must be the number/);
    const restored = await canopy(['trash', 'restore', String(entry.id), '--json']);
    assert.equal(restored.code, 0, restored.stderr);
    assert.equal(JSON.parse(restored.stdout).path, 'tr.gone');
    assert.equal((await c.s.call('GET', '/api/v1/nodes/tr.gone')).status, 200);
    assert.doesNotMatch((await canopy(['trash', 'ls'])).stdout, /tr\.gone/);
  });

  test('an API validation error names the CLI flag (--under), not the query parameter', async () => {
    await c.s.call('POST', '/api/v1/users', { username: 'flaguser', password: 'flag-password-1' });
    await c.s.call('POST', '/api/v1/nodes', { parentPath: null, name: 'fl' });
    await c.s.call('POST', '/api/v1/grants', { user: 'flaguser', role: 'viewer', nodePath: 'fl' });
    const token = await c.s.login('flaguser', 'flag-password-1');
    const r = await canopy(['machine', 'ls'], token);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--under/);
    assert.doesNotMatch(r.stderr, /querystring|\?under=/);
  });

  test('machine import shows a row that named a renamed node landing with a note', async () => {
    await c.s.call('POST', '/api/v1/nodes', { parentPath: null, name: 'mv' });
    await c.s.call('POST', '/api/v1/nodes', { parentPath: 'mv', name: 'search' });
    await c.s.call('PATCH', '/api/v1/nodes/mv.search', { name: 'find' });
    const file = join(c.dir, 'machines.csv');
    writeFileSync(file, 'hostname,nodes\nmv1.example,mv.search\nmv2.example\n');
    const r = await canopy(['machine', 'import', file]);
    assert.equal(r.code, 1, 'a row failed');
    assert.match(r.stdout, /^1 +mv1\.example +created +mv\.search moved to mv\.find$/m);
    assert.match(r.stdout, /^2 +mv2\.example +FAILED +row has 1 cell\(s\), the header has 2$/m);
    assert.deepEqual((await c.s.call('GET', '/api/v1/machines/mv1.example')).body.nodes, ['mv.find']);
  });
});
