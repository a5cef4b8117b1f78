import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskState as S, TASK_STATE_NAMES, isTerminal, stateName, type TaskStateValue } from './states.ts';
import { afterStep, mergeReport, nextStep, orphanedState, type TaskStep } from './transition.ts';

const all = TASK_STATE_NAMES.map((n) => S[n]);

/** Drive a task from `from` towards `desired`, every call succeeding; the states it passes. */
function walk(from: TaskStateValue, desired: TaskStateValue): { states: TaskStateValue[]; ops: string[] } {
  const states: TaskStateValue[] = [];
  const ops: string[] = [];
  let at = from;
  for (let i = 0; i < 20; i++) {
    const step = nextStep(at, desired);
    if (step.do === 'nothing') break;
    if (step.do === 'call') ops.push(step.op);
    const next = afterStep(at, step, { ok: true });
    if (next === undefined || (step.do === 'call' && step.op === 'remove')) break;
    at = next.state;
    states.push(at);
  }
  return { states, ops };
}

describe('task states', () => {
  test('carry SwarmKit’s values, in increasing order', () => {
    assert.deepEqual(all, [0, 64, 192, 256, 320, 384, 448, 512, 576, 640, 704, 768, 800, 832]);
    assert.equal(stateName(512), 'RUNNING');
    assert.throws(() => stateName(1), /not a task state/);
  });
  test('terminal from COMPLETE on', () => {
    assert.deepEqual(all.filter(isTerminal), [576, 640, 704, 768, 800, 832]);
  });
});

describe('nextStep, as exec.Do', () => {
  test('a new task desired RUNNING walks ACCEPTED → PREPARING → READY → STARTING → RUNNING, calling prepare and start', () => {
    const r = walk(S.NEW, S.RUNNING);
    assert.deepEqual(r.states, [S.ACCEPTED, S.PREPARING, S.READY, S.STARTING, S.RUNNING]);
    assert.deepEqual(r.ops, ['prepare', 'start']);
  });
  test('desired COMPLETE goes on to wait and ends COMPLETE', () => {
    const r = walk(S.ASSIGNED, S.COMPLETE);
    assert.equal(r.states.at(-1), S.COMPLETE);
    assert.deepEqual(r.ops, ['prepare', 'start', 'wait']);
  });
  test('desired READY stops at READY: a state at or above the desired one does nothing', () => {
    assert.deepEqual(walk(S.NEW, S.READY).states.at(-1), S.READY);
    for (const observed of all) {
      for (const desired of [S.READY, S.RUNNING, S.COMPLETE]) {
        if (observed >= desired) assert.deepEqual(nextStep(observed, desired), { do: 'nothing' }, `${observed}/${desired}`);
      }
    }
  });
  test('desired SHUTDOWN below COMPLETE calls shutdown; at or past COMPLETE does nothing', () => {
    for (const observed of all) {
      const step = nextStep(observed, S.SHUTDOWN);
      if (observed < S.COMPLETE) assert.deepEqual(step, { do: 'call', op: 'shutdown', to: S.SHUTDOWN, message: 'shutdown requested' });
      else assert.deepEqual(step, { do: 'nothing' });
    }
  });
  test('desired REMOVE shuts an unfinished task down, then removes it', () => {
    assert.deepEqual(walk(S.RUNNING, S.REMOVE).ops, ['shutdown', 'remove']);
    assert.deepEqual(walk(S.FAILED, S.REMOVE).ops, ['remove']);
  });
  test('terminal tasks never move again whatever is desired (but REMOVE cleans up)', () => {
    for (const observed of all.filter(isTerminal)) {
      for (const desired of [S.READY, S.RUNNING, S.COMPLETE, S.SHUTDOWN]) assert.equal(nextStep(observed, desired).do, 'nothing');
    }
  });
  test('every step moves forward', () => {
    for (const observed of all) {
      for (const desired of [S.READY, S.RUNNING, S.COMPLETE, S.SHUTDOWN, S.REMOVE]) {
        const step = nextStep(observed, desired);
        if (step.do !== 'nothing') assert.ok(step.to >= observed, `${observed}→${step.to}`);
      }
    }
  });
});

describe('afterStep: errors', () => {
  const call = (op: 'prepare' | 'start' | 'wait' | 'shutdown'): TaskStep => ({ do: 'call', op, to: S.RUNNING, message: op });
  test('a fatal error before STARTING is REJECTED, with the reason', () => {
    assert.deepEqual(afterStep(S.PREPARING, call('prepare'), { ok: false, error: 'unknown kind "x"' }), {
      state: S.REJECTED, message: 'prepare failed', error: 'unknown kind "x"',
    });
  });
  test('a fatal error at or after STARTING is FAILED', () => {
    assert.equal(afterStep(S.STARTING, call('start'), { ok: false, error: 'boom' })?.state, S.FAILED);
    assert.equal(afterStep(S.RUNNING, call('wait'), { ok: false, error: 'lost' })?.state, S.FAILED);
  });
  test('a non-zero exit during wait is FAILED with the exit code', () => {
    assert.deepEqual(afterStep(S.RUNNING, call('wait'), { ok: false, error: 'exit status 3', exitCode: 3 }), {
      state: S.FAILED, message: 'failed', error: 'exit status 3', exitCode: 3,
    });
  });
  test('a temporary error keeps the state, to retry', () => {
    for (const op of ['prepare', 'start', 'wait', 'shutdown'] as const) {
      assert.equal(afterStep(S.PREPARING, call(op), { ok: false, error: 'busy', temporary: true }), undefined);
    }
  });
  test('a successful wait keeps the exit code', () => {
    assert.deepEqual(afterStep(S.RUNNING, { do: 'call', op: 'wait', to: S.COMPLETE, message: 'finished' }, { ok: true, exitCode: 0 }), {
      state: S.COMPLETE, message: 'finished', exitCode: 0,
    });
  });
});

describe('reports', () => {
  test('only a move forward replaces the stored state: duplicates and stale reports do not', () => {
    assert.equal(mergeReport(S.RUNNING, S.COMPLETE), true);
    assert.equal(mergeReport(S.RUNNING, S.RUNNING), false);
    assert.equal(mergeReport(S.COMPLETE, S.RUNNING), false);
    assert.equal(mergeReport(S.ORPHANED, S.COMPLETE), false);
  });
  test('only unfinished tasks are orphaned', () => {
    assert.equal(orphanedState(S.RUNNING), S.ORPHANED);
    assert.equal(orphanedState(S.COMPLETE), undefined);
  });
});
