/** `canopy artifact …` as a subprocess against a live server. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNode, CLI_MAIN, startCliServer, type CliServer } from '../cli-harness.test-util.ts';

describe('canopy artifact against a live server', () => {
  let c: CliServer;
  const store = mkdtempSync(join(tmpdir(), 'canopy-cli-artifacts-'));
  const canopy = (args: string[]) =>
    runNode(CLI_MAIN, args, { env: { PATH: process.env['PATH'], HOME: c.dir, CANOPY_CONFIG: join(c.dir, 'none.json'), CANOPY_URL: c.url, CANOPY_TOKEN: c.token }, cwd: c.dir });

  before(async () => {
    // The server in this process reads its artifact settings from the environment when it starts.
    process.env['CANOPY_ARTIFACTS_DIR'] = store;
    c = await startCliServer('artifact');
    for (const [parentPath, name] of [[null, 'cli'], ['cli', 'pay'], ['cli.pay', 'api']] as const) await c.s.call('POST', '/api/v1/nodes', { parentPath, name });
  });
  after(async () => {
    await c.s.close();
    delete process.env['CANOPY_ARTIFACTS_DIR'];
    rmSync(c.dir, { recursive: true, force: true });
    rmSync(store, { recursive: true, force: true });
  });

  test('push stores a file with its provenance; ls, show and pull read it back', async () => {
    const body = randomBytes(200_000);
    const file = join(c.dir, 'app.tar.gz');
    writeFileSync(file, body);
    const sha = createHash('sha256').update(body).digest('hex');
    const pushed = await canopy(['artifact', 'push', 'cli.pay.api@1.4.2', file, '--commit', 'abcdef1', '--builder', 'ci-7', '--json']);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal(JSON.parse(pushed.stdout).sha256, sha);
    const again = await canopy(['artifact', 'push', 'cli.pay.api@1.4.2', file]);
    assert.match(again.stdout, /already stored \(same content\)/);
    const ls = await canopy(['artifact', 'ls', 'cli.pay.api']);
    assert.match(ls.stdout, new RegExp(`^cli\\.pay\\.api@1\\.4\\.2 +200000 +${sha.slice(0, 12)} +abcdef1 `, 'm'));
    const sub = JSON.parse((await canopy(['artifact', 'ls', 'cli', '--subtree', '--json'])).stdout) as { ref: string }[];
    assert.deepEqual(sub.map((a) => a.ref), ['cli.pay.api@1.4.2']);
    const show = await canopy(['artifact', 'show', 'cli.pay.api@1.4.2']);
    assert.match(show.stdout, /^builder: +ci-7$/m);
    const pull = await canopy(['artifact', 'pull', 'cli.pay.api@1.4.2', '-o', 'got.tgz', '--json']);
    assert.equal(pull.code, 0, pull.stderr);
    assert.ok(readFileSync(join(c.dir, 'got.tgz')).equals(body));
  });

  test('other content under a taken version, a bad reference and an unknown version fail with one clear line', async () => {
    const file = join(c.dir, 'other.tar.gz');
    writeFileSync(file, randomBytes(100));
    const taken = await canopy(['artifact', 'push', 'cli.pay.api@1.4.2', file]);
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /immutable/);
    const bad = await canopy(['artifact', 'show', 'cli.pay.api']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /<node path>@<version>/);
    const missing = await canopy(['artifact', 'show', 'cli.pay.api@9.9.9']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not found/);
    const rm = await canopy(['artifact', 'rm', 'cli.pay.api@1.4.2', '--json']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.match((await canopy(['artifact', 'ls', 'cli.pay.api'])).stdout, /\(none\)/);
  });
});
