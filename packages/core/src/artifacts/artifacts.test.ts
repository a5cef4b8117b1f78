import { test } from 'node:test';
import assert from 'node:assert/strict';
import { artifactVersionProblem, parseArtifactRef, parseRange, pickRetained } from './index.ts';

test('versions look like semver, dates and git-describe output, and are safe as a directory name', () => {
  for (const ok of ['1.4.2', '1.0.0-rc.1+build.7', '2026.12.03-1', 'v3', 'a', 'g1a2b3c4']) assert.equal(artifactVersionProblem(ok), undefined, ok);
  for (const bad of ['', '.', '..', 'a..b', '-1', '1.0.', '1/2', '1 2', 'é', 'x'.repeat(129)]) assert.ok(artifactVersionProblem(bad), bad);
});

test('a reference is a node path and a version joined by @', () => {
  assert.deepEqual(parseArtifactRef('corp.pay.api@1.4.2'), { nodePath: 'corp.pay.api', version: '1.4.2' });
  assert.equal(parseArtifactRef('corp.pay.api'), undefined);
  assert.equal(parseArtifactRef('@1.0'), undefined);
  assert.equal(parseArtifactRef('Corp@1.0'), undefined);
  assert.equal(parseArtifactRef('corp@a..b'), undefined);
});

test('one byte range is honoured; other forms get the whole body; past the end is unsatisfiable', () => {
  assert.deepEqual(parseRange('bytes=0-99', 1000), { start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=900-', 1000), { start: 900, end: 999 });
  assert.deepEqual(parseRange('bytes=900-5000', 1000), { start: 900, end: 999 });
  assert.deepEqual(parseRange('bytes=-100', 1000), { start: 900, end: 999 });
  assert.deepEqual(parseRange('bytes=-5000', 1000), { start: 0, end: 999 });
  assert.equal(parseRange('bytes=1000-', 1000), 'unsatisfiable');
  assert.equal(parseRange('bytes=-0', 1000), 'unsatisfiable');
  assert.equal(parseRange(undefined, 1000), undefined);
  assert.equal(parseRange('bytes=0-1,5-6', 1000), undefined, 'several ranges: the whole body');
  assert.equal(parseRange('items=0-1', 1000), undefined);
  assert.equal(parseRange('bytes=5-1', 1000), undefined);
});

test('retention keeps the newest N, the recently deployed and the running, and removes the rest', () => {
  const day = 86_400_000;
  const now = new Date('2026-12-03T12:00:00Z');
  const at = (daysAgo: number) => new Date(now.getTime() - daysAgo * day).toISOString();
  const versions = [
    { version: '1.0', createdAt: at(100), deployedAt: at(90) },
    { version: '1.1', createdAt: at(80), deployedAt: at(10) },
    { version: '1.2', createdAt: at(60), deployedAt: null },
    { version: '1.3', createdAt: at(40), deployedAt: null },
    { version: '1.4', createdAt: at(20), deployedAt: null },
    { version: '1.5', createdAt: at(1), deployedAt: null },
  ];
  const r = pickRetained(versions, { keepLast: 2, keepDeployedDays: 30 }, new Set(['1.2']), now);
  assert.deepEqual(r.keep, ['1.5', '1.4', '1.2', '1.1']);
  assert.deepEqual(r.remove, ['1.3', '1.0']);
});
