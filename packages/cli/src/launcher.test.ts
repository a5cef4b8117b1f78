/**
 * The installed `canopy` command (packages/cli/bin/canopy, linked by npm as node_modules/.bin/canopy)
 * must start the CLI with the workspace's pinned Node 24 even when PATH finds an older system Node
 * first, which cannot run TypeScript. These tests run the real launcher under real Node binaries.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const ROOT = join(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'node_modules/.bin/canopy');
const LAUNCHER = join(ROOT, 'packages/cli/bin/canopy');
const PINNED = realpathSync(join(ROOT, 'node_modules/.bin/node'));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: Record<string, string>, cwd: string): Run {
  const r = spawnSync(file, args, { env, cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Every `node` on PATH and in the usual system places (what `which -a node` finds), pinned one excluded. */
function systemNodes(): { file: string; version: string }[] {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/local/bin', '/usr/bin', '/bin'];
  const seen = new Set([PINNED]);
  const found: { file: string; version: string }[] = [];
  for (const dir of dirs) {
    const file = join(dir, 'node');
    if (!dir || !isExecutable(file) || seen.has(realpathSync(file))) continue;
    seen.add(realpathSync(file));
    const v = spawnSync(file, ['--version'], { encoding: 'utf8' });
    if (v.status === 0) found.push({ file, version: v.stdout.trim() });
  }
  return found;
}

/** True for Node versions that cannot strip types at all (before 22.6). */
function tooOld(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return major < 22 || (major === 22 && minor < 6);
}

describe('the canopy launcher', () => {
  let dir: string;
  let oldNode: { file: string; version: string } | undefined;
  /** A directory whose `node` is the old system Node, to put first on PATH. */
  let oldNodeDir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'canopy-launcher-'));
    oldNode = systemNodes().find((n) => tooOld(n.version));
    oldNodeDir = join(dir, 'old-node');
    mkdirSync(oldNodeDir);
    if (oldNode) symlinkSync(oldNode.file, join(oldNodeDir, 'node'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const env = (path: string[]) => ({ PATH: path.join(delimiter), HOME: dir });
  const systemPath = () => [oldNodeDir, '/usr/local/bin', '/usr/bin', '/bin'];

  test('npm links node_modules/.bin/canopy to the launcher, not to a .ts file', () => {
    assert.equal(realpathSync(BIN), realpathSync(LAUNCHER));
  });

  test('node_modules/.bin/canopy --help works when PATH finds the system Node (< 22.6) first', (t) => {
    if (!oldNode) return t.skip('no Node older than 22.6 on this machine (which -a node): cannot show the launcher avoids it');
    assert.ok(tooOld(run('node', ['--version'], env(systemPath()), dir).stdout.trim()), 'PATH should find the old Node first');
    const r = run(BIN, ['--help'], env(systemPath()), dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: canopy /);
    assert.match(r.stdout, /operations around one service tree/);
  });

  test('a canopy found through PATH via a chain of symlinks still finds the workspace Node', (t) => {
    if (!oldNode) return t.skip('no Node older than 22.6 on this machine (which -a node)');
    const userBin = join(dir, 'user-bin');
    mkdirSync(userBin);
    symlinkSync(BIN, join(userBin, 'canopy'));
    const r = run('canopy', ['help', 'tree'], env([userBin, ...systemPath()]), dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Usage: canopy tree/);
  });

  test('never runs the node PATH finds while a pinned one exists', () => {
    const poisoned = join(dir, 'poisoned');
    mkdirSync(poisoned);
    writeFileSync(join(poisoned, 'node'), '#!/bin/sh\necho "PATH node was used" >&2\nexit 99\n', { mode: 0o755 });
    const r = run(BIN, ['--help'], env([poisoned, '/usr/bin', '/bin']), dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: canopy /);
  });

  test('npm exec canopy (and so npx canopy) runs the CLI under the same PATH', (t) => {
    const npm = ['/usr/local/bin/npm', '/usr/bin/npm'].find(isExecutable);
    if (!npm || !oldNode) return t.skip(`needs npm and a Node older than 22.6 (npm: ${npm ?? 'not found'}, old node: ${oldNode?.file ?? 'not found'})`);
    // npm itself runs on the system Node; what it execs must still be the pinned one.
    const r = run(npm, ['exec', '--offline', '--', 'canopy', '--help'], { ...env(systemPath()), npm_config_update_notifier: 'false' }, ROOT);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Usage: canopy /);
  });

  describe('outside a workspace (no node_modules/.bin/node above it)', () => {
    let pkg: string;
    before(() => {
      // A copy of the launcher beside a TypeScript entry that reports the Node running it.
      pkg = join(dir, 'lonely', 'cli');
      mkdirSync(join(pkg, 'bin'), { recursive: true });
      mkdirSync(join(pkg, 'src'));
      copyFileSync(LAUNCHER, join(pkg, 'bin', 'canopy'));
      writeFileSync(join(pkg, 'src', 'main.ts'), 'const v: string = process.version;\nconsole.log(`ran on ${v}`, process.argv.slice(2).join(" "));\n');
    });

    test('falls back to a node on PATH that strips types', () => {
      const good = join(dir, 'good-node');
      mkdirSync(good);
      symlinkSync(PINNED, join(good, 'node'));
      const r = run(join(pkg, 'bin', 'canopy'), ['a', 'b c'], env([good, '/usr/bin', '/bin']), dir);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `ran on ${process.version} a b c\n`);
    });

    test('refuses an older node on PATH with a message saying what is needed', (t) => {
      if (!oldNode) return t.skip('no Node older than 22.6 on this machine (which -a node)');
      const r = run(join(pkg, 'bin', 'canopy'), ['--help'], env([oldNodeDir, '/nonexistent']), dir);
      assert.equal(r.code, 127);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /needs Node\.js 22\.6 or later/);
      assert.ok(r.stderr.includes(oldNode.version), r.stderr);
    });

    test('says so when there is no node at all', () => {
      const r = run(join(pkg, 'bin', 'canopy'), [], env(['/nonexistent']), dir);
      assert.equal(r.code, 127);
      assert.match(r.stderr, /no node on PATH/);
    });
  });
});
