import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assignBuilds, derivedVersion, gitRefProblem, gitUrlProblem, outputPathProblem, waitingReason, type PoolState } from './index.ts';
import { parseTaskSpec } from '../tasks/index.ts';

describe('build grammar', () => {
  test('accepts the usual repository URLs and refuses option-looking or odd ones', () => {
    for (const ok of ['https://git.example.com/a/b.git', 'ssh://git@host/x.git', 'git://h/x', 'file:///srv/git/app.git', 'git@github.com:corp/app.git']) assert.equal(gitUrlProblem(ok), undefined, ok);
    assert.match(gitUrlProblem('--upload-pack=touch')!, /start with "-"/);
    assert.match(gitUrlProblem('https://h/a b')!, /spaces/);
    assert.match(gitUrlProblem('file://relative/x')!, /absolute/);
    assert.match(gitUrlProblem('/srv/git/app')!, /URL/);
    assert.match(gitUrlProblem('ext::sh -c touch% /tmp/pwned')!, /spaces|URL/);
  });

  test('refs and output paths stay plain and inside the checkout', () => {
    for (const ok of ['main', 'release/1.4', 'v1.4.2', '1a2b3c4d']) assert.equal(gitRefProblem(ok), undefined, ok);
    for (const bad of ['-x', 'a..b', 'a/', 'x.lock', 'a b', 'a/.hidden']) assert.ok(gitRefProblem(bad), bad);
    for (const ok of ['dist', 'build/out', '.']) assert.equal(outputPathProblem(ok), undefined, ok);
    for (const bad of ['/etc', '../x', 'a/../../b', 'a b']) assert.ok(outputPathProblem(bad), bad);
  });

  test('a derived version names the ref and the commit', () => {
    const sha = '1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d';
    assert.equal(derivedVersion('main', sha), 'main-1a2b3c4d5e6f');
    assert.equal(derivedVersion('refs/heads/feature/x', sha), 'feature-x-1a2b3c4d5e6f');
    assert.equal(derivedVersion('1a2b3c4', sha), '1a2b3c4d5e6f');
  });

  test('the build task spec is validated with its defaults', () => {
    const r = parseTaskSpec('build', { buildId: 1, repo: 'file:///srv/a.git', ref: 'main', command: 'make', outputPath: 'dist' });
    assert.equal(r.ok, true);
    assert.equal((r as { spec: { timeoutSeconds: number } }).spec.timeoutSeconds, 3600);
    const bad = parseTaskSpec('build', { buildId: 1, repo: '-oProxyCommand=x', ref: 'main', command: 'make', outputPath: 'dist' });
    assert.equal(bad.ok, false);
  });
});

describe('build slot assignment', () => {
  const pool = (machines: [number, boolean, number][], maxPerMachine = 1): PoolState => ({ machines: machines.map(([id, connected, running]) => ({ id, connected, running })), maxPerMachine });

  test('one build per machine by default; the rest wait, oldest first', () => {
    const pools = new Map([[10, pool([[1, true, 0], [2, true, 0]])]]);
    const out = assignBuilds([{ id: 7, poolNodeId: 10 }, { id: 5, poolNodeId: 10 }, { id: 6, poolNodeId: 10 }], pools);
    assert.deepEqual(out, [{ buildId: 5, machineId: 1 }, { buildId: 6, machineId: 2 }]);
  });

  test('the least loaded connected machine is chosen; unconnected ones never', () => {
    const pools = new Map([[10, pool([[1, true, 1], [2, false, 0], [3, true, 0]], 2)]]);
    assert.deepEqual(assignBuilds([{ id: 1, poolNodeId: 10 }, { id: 2, poolNodeId: 10 }, { id: 3, poolNodeId: 10 }, { id: 4, poolNodeId: 10 }], pools), [
      { buildId: 1, machineId: 3 },
      { buildId: 2, machineId: 1 },
      { buildId: 3, machineId: 3 },
    ]);
  });

  test('a full pool does not hold up another pool', () => {
    const pools = new Map([[10, pool([[1, true, 1]])], [20, pool([[2, true, 0]])]]);
    assert.deepEqual(assignBuilds([{ id: 1, poolNodeId: 10 }, { id: 2, poolNodeId: 20 }], pools), [{ buildId: 2, machineId: 2 }]);
  });

  test('the waiting reason says what is missing', () => {
    assert.match(waitingReason(pool([]), 'corp.build'), /has no machines/);
    assert.match(waitingReason(pool([[1, false, 0]]), 'corp.build'), /no agent .* connected/);
    assert.match(waitingReason(pool([[1, true, 1]]), 'corp.build'), /busy \(1 machine × 1/);
  });
});
