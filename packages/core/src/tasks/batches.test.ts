import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchSizeProblem, planBatches } from './batches.ts';

test('a count makes equal batches, the last one smaller', () => {
  assert.deepEqual(planBatches(25, 10), [10, 10, 5]);
  assert.deepEqual(planBatches(25, '10'), [10, 10, 5]);
});
test('a share is of all hosts, at least one', () => {
  assert.deepEqual(planBatches(20, '10%'), [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
  assert.deepEqual(planBatches(5, '1%'), [1, 1, 1, 1, 1]);
});
test('growth expressions multiply or add', () => {
  assert.deepEqual(planBatches(40, '5 *2'), [5, 10, 20, 5]);
  assert.deepEqual(planBatches(20, '1 +4'), [1, 5, 9, 5]);
});
test('a canary is a first batch of one host', () => {
  assert.deepEqual(planBatches(21, 10, true), [1, 10, 10]);
  assert.deepEqual(planBatches(0, 10, true), []);
});
test('bad sizes are refused with the reason', () => {
  assert.match(batchSizeProblem(0) ?? '', /≥ 1/);
  assert.match(batchSizeProblem('150%') ?? '', /at most 100%/);
  assert.match(batchSizeProblem('lots') ?? '', /count \(10\), a share/);
  assert.equal(batchSizeProblem('5 *2'), undefined);
});
