/**
 * The embedded database is private to the server's user whatever the umask: the real server entry
 * (`npm start`) is started under umask 0022 on a fresh data dir and on one left world-writable, and
 * the dir is walked after each run.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../../../..');
const NODE = join(ROOT, 'node_modules/.bin/node');
const MAIN = join(ROOT, 'packages/server/src/main.ts');

/** Every path under `dir` (itself included) with its mode bits and kind. */
function walk(dir: string): { path: string; mode: number; dir: boolean }[] {
  const st = lstatSync(dir);
  const here = { path: dir, mode: st.mode & 0o777, dir: st.isDirectory() };
  return st.isDirectory() ? [here, ...readdirSync(dir).flatMap((n) => walk(join(dir, n)))] : [here];
}

/** Start `npm start`'s entry on `dataDir`, wait until it listens, stop it with SIGTERM; returns its output. */
async function runServer(dataDir: string): Promise<string> {
  const env = { PATH: process.env['PATH'], CANOPY_DATA_DIR: dataDir, CANOPY_PORT: '0', CANOPY_HOST: '127.0.0.1', CANOPY_ADMIN_PASSWORD: 'perm-test-password-1' };
  const child = spawn(NODE, [MAIN], { env, cwd: ROOT });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d;
      if (output.includes('Canopy listening on')) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => reject(new Error(`server exited ${code} before listening:\n${output}`)));
  });
  child.kill('SIGTERM');
  assert.equal(await exited, 0, output);
  return output;
}

describe('the embedded database directory', () => {
  const root = mkdtempSync(join(tmpdir(), 'canopy-perm-'));
  const dataDir = join(root, 'data');
  const umask = process.umask(0o022);
  after(() => {
    process.umask(umask);
    rmSync(root, { recursive: true, force: true });
  });

  const loose = () => walk(dataDir).filter((e) => e.mode !== (e.dir ? 0o700 : 0o600));

  test('a fresh data dir is 0700 with every file 0600 under umask 0022', async () => {
    await runServer(dataDir);
    const all = walk(dataDir);
    assert.ok(all.filter((e) => !e.dir).length > 100, 'the cluster was written');
    assert.ok(all.some((e) => e.path.endsWith('pg_hba.conf')));
    assert.deepEqual(loose().map((e) => `${e.path} ${e.mode.toString(8)}`), []);
  });

  test('an existing data dir left world-writable is tightened at start, with a log line', async () => {
    for (const e of walk(dataDir)) chmodSync(e.path, e.dir ? 0o777 : 0o666);
    assert.ok(loose().length > 100);
    const output = await runServer(dataDir);
    assert.match(output, /data dir .*: tightened \d+ director(y|ies) to 0700 and \d+ file\(s\) to 0600/);
    assert.deepEqual(loose().map((e) => `${e.path} ${e.mode.toString(8)}`), []);
  });
});
