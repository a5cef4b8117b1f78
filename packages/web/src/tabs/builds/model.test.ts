import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyLogEvent, buildInputOf, durationText } from './model.ts';

test('log pieces join at their byte offsets; a resent piece is dropped and a reset replaces the log', () => {
  let log = { text: '', bytes: 0 };
  log = applyLogEvent(log, 'log', { at: 0, text: 'héllo\n' });
  assert.equal(log.bytes, 7);
  log = applyLogEvent(log, 'log', { at: 0, text: 'héllo\n' });
  assert.equal(log.text, 'héllo\n');
  log = applyLogEvent(log, 'log', { at: 7, text: 'done\n' });
  assert.equal(log.text, 'héllo\ndone\n');
  assert.deepEqual(applyLogEvent(log, 'reset', { at: 0, text: 'x' }), { text: 'x', bytes: 1 });
});

test('the form becomes the API body; env lines are NAME=value', () => {
  assert.deepEqual(buildInputOf('corp.app', { repo: ' file:///r ', ref: '', command: 'make', outputPath: 'dist', env: 'A=1\n\nB=x=y' }), {
    nodePath: 'corp.app', repo: 'file:///r', ref: 'main', command: 'make', outputPath: 'dist', env: { A: '1', B: 'x=y' },
  });
  assert.throws(() => buildInputOf('corp.app', { repo: 'r', ref: 'main', command: 'c', outputPath: 'd', env: 'oops' }), /line 1 must be NAME=value/);
  assert.equal(durationText(65_000), '1 min 5 s');
});
