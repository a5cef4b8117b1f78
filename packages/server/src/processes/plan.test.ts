import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskState } from '@canopy/core';
import { planProcesses, type PlanInput } from './plan.ts';

const R = TaskState.RUNNING;
const base = (over: Partial<PlanInput>): PlanInput => ({ desired: 'running', generation: 1, members: [1, 2, 3], open: [], ended: new Map(), ready: new Set(), away: new Set(), ...over });

test('a first declaration starts a task on every machine at once', () => {
  assert.deepEqual(planProcesses(base({})), { create: [1, 2, 3], shutdown: [] });
});

test('a new generation replaces one machine at a time, the next once the first is ready', () => {
  const open = [1, 2, 3].map((m) => ({ id: `old${m}`, machineId: m, generation: 1, desired: R }));
  assert.deepEqual(planProcesses(base({ generation: 2, open })), { create: [1], shutdown: [] });
  const started = [...open, { id: 'new1', machineId: 1, generation: 2, desired: R }];
  assert.deepEqual(planProcesses(base({ generation: 2, open: started })), { create: [], shutdown: ['old1'] });
  assert.deepEqual(planProcesses(base({ generation: 2, open: started, ready: new Set(['new1']) })), { create: [2], shutdown: ['old1'] });
});

test('stopping shuts every task down; machines leaving the node lose theirs', () => {
  const open = [1, 4].map((m) => ({ id: `t${m}`, machineId: m, generation: 1, desired: R }));
  assert.deepEqual(planProcesses(base({ desired: 'stopped', open })), { create: [], shutdown: ['t1', 't4'] });
  assert.deepEqual(planProcesses(base({ open, members: [1] })).shutdown, ['t4']);
});

test('a task of this generation that failed is not started again; an orphaned one is', () => {
  const ended = new Map([[1, { generation: 1, state: TaskState.FAILED }], [2, { generation: 1, state: TaskState.ORPHANED }]]);
  assert.deepEqual(planProcesses(base({ ended })).create, [2, 3]);
});

test('an away machine does not hold a rolling restart up', () => {
  const open = [1, 2].map((m) => ({ id: `old${m}`, machineId: m, generation: 1, desired: R }));
  const plan = planProcesses(base({ generation: 2, members: [1, 2], open: [...open, { id: 'new1', machineId: 1, generation: 2, desired: R }], away: new Set([1]) }));
  assert.deepEqual(plan, { create: [2], shutdown: ['old1'] });
});

test('older tasks a deployment adopted count as current: nothing replaces them', () => {
  // A rollback switched machine 1 (generation 3); machines 2 and 3 ran the release already (generation 2).
  const open = [{ id: 'new1', machineId: 1, generation: 3, desired: R }, ...[2, 3].map((m) => ({ id: `kept${m}`, machineId: m, generation: 2, desired: R }))];
  assert.deepEqual(planProcesses(base({ generation: 3, open, adopted: new Set(['kept2', 'kept3']) })), { create: [], shutdown: [] });
  assert.deepEqual(planProcesses(base({ generation: 3, open, ready: new Set(['new1']) })).create, [2], 'without adoption they would be restarted');
});
