import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffSeconds, isFlapping, nextHealth, shouldRestart } from './policy.ts';
import { ProcessSpec, ProcessTaskSpec } from './spec.ts';
import { parseTaskSpec } from '../tasks/kinds.ts';

const r = ProcessSpec.parse({ argv: ['/bin/true'] }).restart;

test('defaults follow the issue: 10 s grace, always, 1 s backoff doubling to 60 s, flapping past 5 in 60 s', () => {
  const s = ProcessSpec.parse({ argv: ['/bin/true'] });
  assert.equal(s.stopGraceSeconds, 10);
  assert.equal(s.stopSignal, 'SIGTERM');
  assert.deepEqual([r.policy, r.backoffSeconds, r.maxBackoffSeconds, r.flapRestarts, r.flapWindowSeconds], ['always', 1, 60, 5, 60]);
  assert.deepEqual([1, 2, 3, 6, 7, 20].map((n) => backoffSeconds(r, n)), [1, 2, 4, 32, 60, 60]);
});

test('on-failure restarts a non-zero exit only; never restarts nothing', () => {
  assert.equal(shouldRestart('on-failure', 0), false);
  assert.equal(shouldRestart('on-failure', 137), true);
  assert.equal(shouldRestart('always', 0), true);
  assert.equal(shouldRestart('never', 1), false);
});

test('six restarts inside the minute are flapping; five, or six spread wider, are not', () => {
  const now = 1_000_000;
  assert.equal(isFlapping(r, [1, 2, 3, 4, 5].map((s) => now - s * 1000), now), false);
  assert.equal(isFlapping(r, [1, 2, 3, 4, 5, 6].map((s) => now - s * 1000), now), true);
  assert.equal(isFlapping(r, [1, 2, 3, 4, 5, 70].map((s) => now - s * 1000), now), false);
});

test('health thresholds count consecutive results', () => {
  const t = { healthyThreshold: 2, unhealthyThreshold: 3 };
  assert.equal(nextHealth('unknown', { passes: 1, failures: 0 }, t), 'unknown');
  assert.equal(nextHealth('unknown', { passes: 2, failures: 0 }, t), 'healthy');
  assert.equal(nextHealth('healthy', { passes: 0, failures: 2 }, t), 'healthy');
  assert.equal(nextHealth('healthy', { passes: 0, failures: 3 }, t), 'unhealthy');
});

test('bad declarations are refused with the field named', () => {
  const bad: [unknown, string][] = [
    [{ argv: [] }, 'argv'],
    [{ argv: ['x'], cwd: 'relative' }, 'cwd'],
    [{ argv: ['x'], cwd: '/srv/../etc' }, 'cwd'],
    [{ argv: ['x'], user: 'Root;rm' }, 'user'],
    [{ argv: ['x'], stopSignal: 'SIGKILL' }, 'stopSignal'],
    [{ argv: ['x'], health: { type: 'http', port: 70000 } }, 'health.port'],
    [{ argv: ['x'], env: { 'A B': '1' } }, 'env.A B'],
    [{ argv: ['x'], restart: { policy: 'sometimes' } }, 'restart.policy'],
  ];
  for (const [input, path] of bad) {
    const res = ProcessSpec.safeParse(input);
    assert.equal(res.success, false, JSON.stringify(input));
    assert.equal(res.error!.issues[0]!.path.join('.'), path, JSON.stringify(input));
  }
});

test('the process task kind takes the declaration plus its node and generation', () => {
  const ok = parseTaskSpec('process', { ...ProcessSpec.parse({ argv: ['/bin/sleep', '1'] }), nodeId: 3, service: 'corp.pay', generation: 1 });
  assert.equal(ok.ok, true);
  const no = parseTaskSpec('process', { argv: ['/bin/sleep'], service: 'corp.pay', generation: 1 });
  assert.equal(no.ok, false);
  assert.equal(ProcessTaskSpec.safeParse({ argv: ['x'], nodeId: 1, service: 'a', generation: 1, release: { version: '1.0', dir: '/srv/a/releases/1.0' } }).success, true);
});
