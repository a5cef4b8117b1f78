import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { packageOutput } from './package.ts';
import { shownUrl } from './script.ts';

describe('packaging a build output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-pack-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('packs the output dir as tar.gz with links kept as links; the same tree packs to the same bytes', async () => {
    const src = join(dir, 'src1');
    mkdirSync(join(src, 'dist/sub'), { recursive: true });
    writeFileSync(join(src, 'dist/a.txt'), 'a\n');
    writeFileSync(join(src, 'dist/sub/b.txt'), 'b\n');
    symlinkSync('/etc/passwd', join(src, 'dist/link'));
    const one = await packageOutput(src, 'dist', join(dir, 'one.tgz'));
    const two = await packageOutput(src, 'dist', join(dir, 'two.tgz'));
    assert.equal(one.sha256, two.sha256);
    const seen: [string, string][] = [];
    await tar.list({ file: one.file, onReadEntry: (e) => seen.push([e.path, e.type]) });
    assert.deepEqual(seen.sort(), [['a.txt', 'File'], ['link', 'SymbolicLink'], ['sub/', 'Directory'], ['sub/b.txt', 'File']]);
  });

  test('refuses an output path that leads outside the checkout, a missing one and an empty one', async () => {
    const src = join(dir, 'src2');
    mkdirSync(join(src, 'empty'), { recursive: true });
    symlinkSync('/etc', join(src, 'dist'));
    await assert.rejects(packageOutput(src, 'dist', join(dir, 'x.tgz')), /leads outside the checkout/);
    await assert.rejects(packageOutput(src, 'nothing', join(dir, 'x.tgz')), /left no output at nothing/);
    await assert.rejects(packageOutput(src, 'empty', join(dir, 'x.tgz')), /is empty/);
  });

  test('a password in the repository URL never reaches the log', () => {
    assert.equal(shownUrl('https://bot:s3cret@git.example.com/a.git'), 'https://bot:***@git.example.com/a.git');
    assert.equal(shownUrl('ssh://git@host/a.git'), 'ssh://git@host/a.git');
  });
});
