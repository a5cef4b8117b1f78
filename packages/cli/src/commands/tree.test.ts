/** `canopy tree` as a scoped user runs it: path-only steps to her nodes, and old paths followed after a rename. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestServer } from '../../../server/src/testing/index.ts';
import { CLI_MAIN, runNode, startCliServer, type Run } from '../cli-harness.test-util.ts';

describe('canopy tree for a scoped user', () => {
  let s: TestServer;
  let url = '';
  let admin = '';
  let alice = '';
  let dir = '';

  function run(args: string[], token = admin): Promise<Run> {
    return runNode(CLI_MAIN, args, { env: { PATH: process.env['PATH'], HOME: dir, CANOPY_CONFIG: join(dir, 'none.json'), CANOPY_URL: url, CANOPY_TOKEN: token }, cwd: dir });
  }

  async function ok(args: string[], token = admin): Promise<Run> {
    const r = await run(args, token);
    assert.equal(r.code, 0, `canopy ${args.join(' ')}: ${r.stderr}`);
    return r;
  }

  before(async () => {
    ({ s, url, dir, token: admin } = await startCliServer('tree-cli'));
    assert.equal((await s.call('POST', '/api/v1/nodes', { parentPath: null, name: 'corp', description: 'company-wide secret' })).status, 201);
    for (const p of ['corp.pay', 'corp.pay.api', 'corp.search', 'corp.search.query']) await ok(['tree', 'add', p]);
    assert.equal((await s.call('POST', '/api/v1/machines', { hostname: 'find-01', ips: ['10.1.0.1'], nodes: ['corp.search.query'] })).status, 201);
    assert.equal((await s.call('POST', '/api/v1/users', { username: 'alice', password: 'alice-password-1' })).status, 201);
    assert.equal((await s.call('POST', '/api/v1/grants', { user: 'alice', role: 'developer', nodePath: 'corp.pay' })).status, 201);
    alice = await s.login('alice', 'alice-password-1');
  });
  after(async () => {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('tree ls corp works for a developer on corp.pay: corp is a path-only step, only her branch shows', async () => {
    const r = await ok(['tree', 'ls', 'corp'], alice);
    assert.match(r.stdout, /^corp +- +- +\(path only\)$/m);
    assert.match(r.stdout, /^ {2}pay /m);
    assert.match(r.stdout, /^ {4}api /m);
    assert.doesNotMatch(r.stdout, /search|secret/);
    const json = JSON.parse((await ok(['tree', 'ls', 'corp', '--json'], alice)).stdout) as { path: string }[];
    assert.deepEqual(json.map((n) => n.path), ['corp.pay', 'corp.pay.api']);
    assert.match((await ok(['tree', 'show', 'corp'], alice)).stdout, /path only/);
    assert.match((await ok(['tree', 'show', 'corp.pay'], alice)).stdout, /^you may: +tree\.read .*deploy\.run/m);
  });

  test('after tree rename, an old path is followed with a note, for ls, show, rename and the machines it holds', async () => {
    assert.equal((await ok(['tree', 'rename', 'corp.search', 'find'])).stdout, 'renamed corp.search to corp.find\n');
    const ls = await ok(['tree', 'ls', 'corp.search.query']);
    assert.equal(ls.stderr, 'corp.search.query moved to corp.find.query\n');
    assert.match(ls.stdout, /^query +1 /m);
    const show = await ok(['tree', 'show', 'corp.search.query', '--json']);
    assert.equal((JSON.parse(show.stdout) as { path: string }).path, 'corp.find.query');
    const renamed = await ok(['tree', 'rename', 'corp.search.query', 'q']);
    assert.deepEqual([renamed.stderr, renamed.stdout], ['corp.search.query moved to corp.find.query\n', 'renamed corp.find.query to corp.find.q\n']);
    const hidden = await run(['tree', 'ls', 'corp.search'], alice);
    assert.deepEqual([hidden.code, hidden.stderr], [1, "error: node 'corp.search' not found (not_found)\n"], 'no hint for someone who may not see it');
  });
});
