import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskState } from '@canopy/core';
import { MAX_DISPATCH_PER_STEP, planJob, type PlanHost, type PlanJob } from './plan.ts';

const job = (over: Partial<PlanJob> = {}): PlanJob => ({ state: 'running', batches: [2500], currentBatch: 0, tolerance: 0, parallelism: undefined, canary: false, canaryPassed: false, ...over });
const hosts = (n: number): PlanHost[] => Array.from({ length: n }, (_, i) => ({ machineId: i + 1, batch: 0, state: 'pending', taskState: null }));

/** Apply a plan's dispatch to `hs` as the orchestrator does. */
function apply(hs: PlanHost[], dispatch: number[]): void {
  const set = new Set(dispatch);
  for (const h of hs) if (set.has(h.machineId)) h.state = 'running';
}

test('a large batch goes out in capped steps, each dispatching hosts the last did not', () => {
  const hs = hosts(2500);
  const seen = new Set<number>();
  const sizes: number[] = [];
  for (;;) {
    const p = planJob(job(), hs);
    if (p.dispatch.length === 0) break;
    for (const id of p.dispatch) assert.equal(seen.has(id), false, `host ${id} dispatched twice`);
    p.dispatch.forEach((id) => seen.add(id));
    sizes.push(p.dispatch.length);
    apply(hs, p.dispatch);
  }
  assert.deepEqual(sizes, [MAX_DISPATCH_PER_STEP, MAX_DISPATCH_PER_STEP, 500]);
  assert.equal(seen.size, 2500);
});

test('parallelism below the cap still bounds a step, and finished tasks free their slots', () => {
  const hs = hosts(10);
  const first = planJob(job({ batches: [10], parallelism: 3 }), hs);
  assert.deepEqual(first.dispatch, [1, 2, 3]);
  apply(hs, first.dispatch);
  assert.deepEqual(planJob(job({ batches: [10], parallelism: 3 }), hs).dispatch, []);
  hs[0]!.taskState = TaskState.COMPLETE;
  const next = planJob(job({ batches: [10], parallelism: 3 }), hs);
  assert.deepEqual(next.hosts, [{ machineId: 1, state: 'succeeded' }]);
  assert.deepEqual(next.dispatch, [4]);
});
