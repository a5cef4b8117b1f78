import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateDeploymentInput, DeployStrategy } from '@canopy/core';
import { actionsFor, allowedActions, batchFigures, batchPreview, batchProblem, deployInputOf, formFieldOf, formOf, hostBusy, isFinished, percents, stateLabel, strategyOf, strategyText, type DeployFormValues, type DeploymentDetailView, type DeploymentHostView } from './model.ts';

const form = (over: Partial<DeployFormValues> = {}): DeployFormValues => ({ version: '1.2.0', ...formOf(), ...over });

test('the default form is the default strategy, and the server accepts its body', () => {
  assert.deepEqual(strategyOf(form()), DeployStrategy.parse({}));
  const body = deployInputOf('corp.pay', form({ reason: '  ' }));
  assert.equal('reason' in body, false, 'a blank reason is left out');
  assert.equal(CreateDeploymentInput.safeParse(body).success, true);
});

test('batch as a count, a share or a growth expression; canary off, waiting for a resume or timed', () => {
  const s = strategyOf(form({ batch: ' 3 ', canary: 'resume', maxFailurePercent: 10, failureAction: 'rollback', order: 'start-first' }));
  assert.equal(s.batch, 3, 'a count goes as a number');
  assert.deepEqual(s.canary, {});
  assert.equal(s.maxFailureRatio, 0.1);
  assert.equal(strategyOf(form({ batch: '25%' })).batch, '25%');
  const timed = strategyOf(form({ batch: '5 *2', canary: 'timed', canaryWaitSeconds: 120, monitorSeconds: null }));
  assert.deepEqual([timed.batch, timed.canary, timed.monitorSeconds], ['5 *2', { waitSeconds: 120 }, 5], 'a cleared number falls back to its default');
  assert.equal(DeployStrategy.safeParse(timed).success, true);
});

test('a strategy read back into the form gives the same strategy (starting from the last deployment)', () => {
  for (const s of [DeployStrategy.parse({ batch: '1 +4', canary: { waitSeconds: 30 }, maxFailureRatio: 0.1, delaySeconds: 7 }), DeployStrategy.parse({ batch: 2, canary: {} })]) {
    assert.deepEqual(strategyOf(formOf(s)), s);
  }
  assert.equal(formOf(DeployStrategy.parse({ maxFailureRatio: 0.1 })).maxFailurePercent, 10);
});

test('the batch field says what is wrong, and the preview shows the batches over the hosts', () => {
  assert.equal(batchProblem(''), 'give a batch size');
  assert.match(batchProblem('two') ?? '', /count \(10\), a share \(10%\) or a growth expression/);
  assert.equal(batchProblem('5 *2'), undefined);
  assert.deepEqual(batchPreview({ batch: '1 *2', canary: 'off' }, 7), [1, 2, 4]);
  assert.deepEqual(batchPreview({ batch: '50%', canary: 'resume' }, 5), [1, 3, 1]);
  assert.equal(batchPreview({ batch: '0', canary: 'off' }, 5), undefined);
});

const host = (hostname: string, batch: number, state: DeploymentHostView['state']): DeploymentHostView => ({ hostname, batch, state, reason: null, fromVersion: '1.0', taskId: null, task: null, message: '', since: '2026-01-01T00:00:00Z' });

test('each batch counts its hosts updated, failed, in flight and waiting', () => {
  const d: Pick<DeploymentDetailView, 'batches' | 'currentBatch' | 'state' | 'hosts'> = {
    batches: [1, 2, 2],
    currentBatch: 1,
    state: 'running',
    hosts: [host('a', 0, 'updated'), host('b', 1, 'starting'), host('c', 1, 'failed'), host('d', 2, 'staged'), host('e', 2, 'staged')],
  };
  const [first, second, third] = batchFigures(d);
  assert.deepEqual(first, { index: 0, size: 1, updated: 1, failed: 0, inFlight: 0, skipped: 0, waiting: 0, phase: 'done' });
  assert.deepEqual(second, { index: 1, size: 2, updated: 0, failed: 1, inFlight: 1, skipped: 0, waiting: 0, phase: 'current' });
  assert.deepEqual([third?.waiting, third?.phase], [2, 'later']);
  assert.deepEqual(percents({ size: 2, updated: 1, failed: 1 }), { percent: 100, success: 50 });
  assert.deepEqual(percents({ size: 0, updated: 0, failed: 0 }), { percent: 0, success: 0 });
  const staging = batchFigures({ ...d, state: 'staging', currentBatch: 0, hosts: d.hosts.map((h) => ({ ...h, state: 'staging' as const })) });
  assert.deepEqual(staging.map((f) => f.phase), ['later', 'later', 'later'], 'no batch has begun while every host stages');
  const stopped = batchFigures({ ...d, state: 'stopped', hosts: d.hosts.map((h) => (h.state === 'staged' ? { ...h, state: 'skipped' as const } : h)) });
  assert.deepEqual(stopped.map((f) => f.phase), ['done', 'later', 'done'], 'skipped hosts settle their batch; a stopped deployment has no current batch');
});

test('the buttons follow the state, the caller’s operations and whether there is a version to go back to', () => {
  assert.deepEqual(actionsFor('running'), ['pause', 'stop']);
  assert.deepEqual(actionsFor('staging'), ['pause', 'stop']);
  assert.deepEqual(actionsFor('paused'), ['resume', 'stop', 'rollback']);
  assert.deepEqual(actionsFor('succeeded'), ['rollback']);
  assert.deepEqual(actionsFor('rolled-back'), []);
  const all = () => true;
  const runOnly = (op: string) => op !== 'deploy.approve';
  const awaiting = { state: 'awaiting-approval' as const, previousVersion: '1.0', rolledBackBy: null };
  assert.ok(allowedActions(awaiting, all).includes('approve'));
  assert.equal(allowedActions(awaiting, runOnly).includes('approve'), false, 'approve is hidden without deploy.approve');
  assert.deepEqual(allowedActions({ state: 'running', previousVersion: null, rolledBackBy: null }, (op) => op === 'deploy.read'), [], 'a reader sees no buttons');
  assert.deepEqual(allowedActions({ state: 'succeeded', previousVersion: null, rolledBackBy: null }, all), [], 'a first deployment has nothing to roll back to');
  assert.deepEqual(allowedActions({ state: 'succeeded', previousVersion: '1.0', rolledBackBy: 9 }, all), [], 'nor one rolled back already');
});

test('states read as words, and only finished deployments stop the live feed', () => {
  assert.equal(stateLabel('awaiting-approval'), 'awaiting approval');
  assert.equal(stateLabel('stopping-old'), 'stopping old');
  assert.deepEqual((['running', 'paused', 'stopped', 'succeeded', 'failed', 'rolled-back'] as const).map(isFinished), [false, false, true, true, true, true]);
  assert.deepEqual((['pending', 'staging', 'starting', 'updated', 'failed'] as const).map(hostBusy), [false, true, true, false, false]);
});

test('the strategy reads as one line', () => {
  assert.equal(strategyText(DeployStrategy.parse({ batch: '5 *2', canary: {}, maxFailureRatio: 0.1 })), 'batches growing 5 *2, canary waits for a resume, stop-first, on failure pause (beyond 10% failed), monitor 5 s, delay 0 s, health timeout 300 s');
  assert.equal(strategyText(DeployStrategy.parse({ batch: '25%', canary: { waitSeconds: 60 }, failureAction: 'rollback' })), 'batches of 25%, canary watched 60 s, stop-first, on failure rollback, monitor 5 s, delay 0 s, health timeout 300 s');
});

test('server issues land on the dialog field they are about', () => {
  assert.equal(formFieldOf(['version']), 'version');
  assert.equal(formFieldOf(['strategy', 'batch']), 'batch');
  assert.equal(formFieldOf(['strategy', 'maxFailureRatio']), 'maxFailurePercent');
  assert.equal(formFieldOf(['strategy', 'canary', 'waitSeconds']), 'canaryWaitSeconds');
  assert.equal(formFieldOf(['strategy']), undefined);
  assert.equal(formFieldOf(['nodePath']), undefined, 'the node is not a field of the dialog: its issue stays above the form');
});
