import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, sha256Hex, uploadProblem } from './model.ts';

test('sizes read in binary units', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(50 * 1024 * 1024), '50.0 MiB');
  assert.equal(formatBytes(1536), '1.5 KiB');
});

test('the upload form names what is missing or wrong before sending', () => {
  const file = new File(['x'], 'app.tar.gz');
  assert.match(uploadProblem(undefined, file, [])!, /give the version/);
  assert.match(uploadProblem('a..b', file, [])!, /\.\./);
  assert.match(uploadProblem('1.0.0', file, ['1.0.0'])!, /immutable/);
  assert.match(uploadProblem('1.0.1', undefined, [])!, /choose the file/);
  assert.equal(uploadProblem('1.0.1', file, ['1.0.0']), undefined);
});

test('the browser digest is the sha256 the server computes', async () => {
  assert.equal(await sha256Hex(new TextEncoder().encode('abc').buffer as ArrayBuffer), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
