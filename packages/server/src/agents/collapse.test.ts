import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskState } from '@canopy/core';
import { collapse } from './dispatcher.ts';

const at = '2026-12-03T00:00:00.000Z';

test('several reports of one task in a batch become one: the furthest state wins', () => {
  const out = collapse([
    { machineId: 1, r: { taskId: 't', state: TaskState.RUNNING, message: 'started', at } },
    { machineId: 1, r: { taskId: 't', state: TaskState.COMPLETE, message: 'finished', exitCode: 0, stdout: 'hi\n', at } },
    { machineId: 1, r: { taskId: 'u', state: TaskState.RUNNING, message: 'started', at } },
  ]);
  assert.equal(out.length, 2);
  assert.equal(out[0]!.r.state, TaskState.COMPLETE);
  assert.equal(out[0]!.r.stdout, 'hi\n');
});

test('live chunks that continue each other are joined', () => {
  const out = collapse([
    { machineId: 1, r: { taskId: 't', state: TaskState.RUNNING, message: 'started', stdout: 'ab', stdoutAt: 0, at } },
    { machineId: 1, r: { taskId: 't', state: TaskState.RUNNING, message: 'started', stdout: 'cd', stdoutAt: 2, at } },
  ]);
  assert.deepEqual([out[0]!.r.stdout, out[0]!.r.stdoutAt], ['abcd', 0]);
});

test('reports of the same task id from different machines stay apart (the forged one is refused later)', () => {
  const out = collapse([
    { machineId: 1, r: { taskId: 't', state: TaskState.RUNNING, message: 'x', at } },
    { machineId: 2, r: { taskId: 't', state: TaskState.FAILED, message: 'forged', at } },
  ]);
  assert.equal(out.length, 2);
});
