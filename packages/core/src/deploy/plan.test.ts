import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskState, type TaskStateValue } from '../tasks/states.ts';
import { planBatches } from '../tasks/batches.ts';
import { planDeployment, SLO_CHECK_MIN_REQUESTS, UNTAKEN_STAGE_MS, type DeployPlan, type PlanDeployHost, type PlanDeployment } from './plan.ts';
import { DeployStrategy } from './strategy.ts';

interface AgentOpts {
  refuseStage?: number[];
  neverHealthy?: number[];
}

/** A deployment over `n` hosts that each run an old process, and an agent that does what it is told. */
function world(n: number, strategy: Partial<DeployStrategy> = {}) {
  const s = DeployStrategy.parse(strategy);
  const sizes = planBatches(n, s.batch, s.canary !== false);
  const batchOf = sizes.flatMap((size, b) => Array<number>(size).fill(b));
  const dep: PlanDeployment & { pausedBecause?: string | null } = { state: 'staging', strategy: s, batches: sizes, currentBatch: 0, batchUpAt: null, canaryPassed: false, isRollback: false };
  const hosts: PlanDeployHost[] = Array.from({ length: n }, (_, i) => ({ machineId: i + 1, batch: batchOf[i]!, state: 'pending', oldTask: TaskState.RUNNING, newTask: null, since: 0 }));
  let now = 1_000_000;
  const log: string[] = [];
  let rollbacks = 0;
  const by = (id: number) => hosts.find((h) => h.machineId === id)!;
  const w = {
    dep,
    hosts,
    log,
    get rollbacks() {
      return rollbacks;
    },
    get now() {
      return now;
    },
    /** One orchestrator step: plan, then write what it decided (hosts, deployment). */
    step(): DeployPlan {
      const p = planDeployment(dep, hosts, now);
      for (const h of p.hosts) Object.assign(by(h.machineId), { state: h.state, since: now });
      for (const id of p.stage) by(id).newTask = TaskState.NEW;
      for (const id of p.stopOld) log.push(`stop-old ${id}`);
      for (const id of p.start) log.push(`start ${id}`);
      if (p.rollback) rollbacks++;
      const { finished: _f, ...patch } = p.deployment;
      Object.assign(dep, patch);
      return p;
    },
    /** The agents: staged tasks reach READY, stopped old ones SHUTDOWN, started new ones RUNNING. */
    agents(opts: AgentOpts = {}): void {
      for (const h of hosts) {
        if (h.state === 'staging') h.newTask = opts.refuseStage?.includes(h.machineId) ? TaskState.REJECTED : TaskState.READY;
        if (h.state === 'stopping-old' || h.state === 'retiring-old') h.oldTask = TaskState.SHUTDOWN;
        if (h.state === 'starting' && !opts.neverHealthy?.includes(h.machineId)) h.newTask = TaskState.RUNNING;
      }
    },
    advance(ms: number): void {
      now += ms;
    },
    /** Step and let the agents act until the deployment rests (finished, paused, or waiting for time). */
    settle(opts: AgentOpts = {}): DeployPlan {
      for (let i = 0; i < 1000; i++) {
        const before = JSON.stringify([dep, hosts]);
        const p = w.step();
        w.agents(opts);
        if (JSON.stringify([dep, hosts]) === before) return p;
      }
      throw new Error('no rest');
    },
    set(id: number, task: 'old' | 'new', state: TaskStateValue): void {
      if (task === 'old') by(id).oldTask = state;
      else by(id).newTask = state;
    },
  };
  return w;
}

test('every host stages before any switches; then batches go stop-first, one at a time by default', () => {
  const w = world(3, { monitorSeconds: 0 });
  const first = w.step();
  assert.deepEqual(first.stage, [1, 2, 3]);
  assert.deepEqual([first.start, first.stopOld], [[], []], 'nothing switches while staging');
  w.settle();
  assert.equal(w.dep.state, 'succeeded');
  assert.deepEqual(w.log, ['stop-old 1', 'start 1', 'stop-old 2', 'start 2', 'stop-old 3', 'start 3']);
  assert.ok(w.hosts.every((h) => h.state === 'updated'));
});

test('a release refused on one host pauses the deployment before any host changed', () => {
  const w = world(4, { batch: 2 });
  w.step();
  w.agents({ refuseStage: [3] });
  const p = w.step();
  assert.equal(w.dep.state, 'paused');
  assert.match(w.dep.pausedBecause ?? '', /staging failed on 1 of 4 hosts \(the release could not be staged\): no host was changed/);
  assert.deepEqual([p.start, p.stopOld, w.log], [[], [], []]);
});

test('a host whose agent never takes its release fails staging after a while: the deployment pauses with why', () => {
  const w = world(3, { batch: 1 });
  w.step();
  for (const id of [1, 2]) w.set(id, 'new', TaskState.READY);
  w.set(3, 'new', TaskState.ASSIGNED); // handed out, never accepted: the agent is away
  let p = w.step();
  assert.equal(w.dep.state, 'staging', 'it waits for the agent a while');
  assert.equal(p.wakeAt, w.hosts[2]!.since + UNTAKEN_STAGE_MS);
  w.advance(UNTAKEN_STAGE_MS);
  p = w.step();
  assert.equal(w.dep.state, 'paused');
  assert.match(w.dep.pausedBecause ?? '', /staging failed on 1 of 3 hosts \(its agent did not take the release within 120 s: is it connected\?\): no host was changed/);
  assert.deepEqual(p.drop, [3], 'its release is dropped, so a returning agent does not stage it');
  assert.deepEqual(w.log, []);
});

test('a slow download is not an absent agent: a release accepted keeps staging however long it takes', () => {
  const w = world(2);
  w.step();
  w.set(1, 'new', TaskState.READY);
  w.set(2, 'new', TaskState.PREPARING);
  w.advance(10 * UNTAKEN_STAGE_MS);
  w.step();
  assert.equal(w.dep.state, 'staging');
  assert.equal(w.hosts[1]!.state, 'staging');
});

test('start-first starts the new process and stops the old one once it is healthy', () => {
  const w = world(1, { order: 'start-first', monitorSeconds: 0 });
  w.settle();
  assert.deepEqual(w.log, ['start 1', 'stop-old 1']);
  assert.equal(w.dep.state, 'succeeded');
});

test('growth batches, the monitor window and the delay: the next batch waits for both', () => {
  const w = world(7, { batch: '1 *2', monitorSeconds: 5, delaySeconds: 10 });
  assert.deepEqual(w.dep.batches, [1, 2, 4]);
  const rest = w.settle();
  assert.equal(rest.wakeAt, w.now + 5000, 'the first batch is watched for 5 s');
  assert.equal(w.dep.currentBatch, 0);
  w.advance(5000);
  assert.equal(w.settle().wakeAt, w.now + 10_000, 'then the delay');
  w.advance(10_000);
  w.settle();
  assert.equal(w.dep.currentBatch, 1);
  assert.equal(w.hosts.filter((h) => h.state === 'updated').length, 3);
  w.advance(15_000);
  w.settle();
  w.advance(15_000);
  w.settle();
  assert.equal(w.dep.state, 'succeeded');
});

test('a canary waits for a person, or for its time', () => {
  const manual = world(3, { batch: 2, canary: {}, monitorSeconds: 0 });
  manual.settle();
  assert.equal(manual.dep.state, 'paused');
  assert.match(manual.dep.pausedBecause ?? '', /canary/);
  assert.equal(manual.hosts.filter((h) => h.state === 'updated').length, 1);
  Object.assign(manual.dep, { state: 'running', canaryPassed: true, pausedBecause: null }); // what resume writes
  manual.settle();
  assert.equal(manual.dep.state, 'succeeded');

  const timed = world(3, { batch: 2, canary: { waitSeconds: 60 }, monitorSeconds: 0 });
  assert.equal(timed.settle().wakeAt, timed.now + 60_000);
  assert.equal(timed.dep.state, 'running');
  timed.advance(60_000);
  timed.settle();
  assert.equal(timed.dep.state, 'succeeded');
});

test('a host never healthy fails when its time is up; the failure action pauses, or rolls back once', () => {
  const paused = world(2, { healthTimeoutSeconds: 30, monitorSeconds: 0 });
  assert.equal(paused.settle({ neverHealthy: [1] }).wakeAt, paused.now + 30_000);
  paused.advance(30_000);
  paused.settle({ neverHealthy: [1] });
  assert.equal(paused.dep.state, 'paused');
  assert.match(paused.dep.pausedBecause ?? '', /1 of 2 hosts failed/);
  assert.deepEqual(paused.log, ['stop-old 1', 'start 1'], 'the second host was never touched');

  const rolled = world(2, { healthTimeoutSeconds: 30, failureAction: 'rollback' });
  rolled.settle({ neverHealthy: [1] });
  rolled.advance(30_000);
  rolled.settle({ neverHealthy: [1] });
  assert.equal(rolled.dep.state, 'rolled-back');
  assert.equal(rolled.rollbacks, 1, 'one rollback deployment asked for');

  const rollback = world(2, { healthTimeoutSeconds: 30, failureAction: 'rollback' });
  rollback.dep.isRollback = true;
  rollback.settle({ neverHealthy: [1] });
  rollback.advance(30_000);
  rollback.settle({ neverHealthy: [1] });
  assert.equal(rollback.dep.state, 'paused', 'a failed rollback pauses, never rolls back again');
  assert.equal(rollback.rollbacks, 0);
});

test('a process dying in the monitor window fails its host; the failure ratio tolerates some', () => {
  const w = world(4, { batch: 2, monitorSeconds: 10, maxFailureRatio: 0.25 });
  w.settle();
  w.set(1, 'new', TaskState.FAILED);
  w.settle();
  assert.equal(w.hosts.find((h) => h.machineId === 1)!.state, 'failed');
  assert.equal(w.dep.state, 'running', 'one of four is within 25 %');
  w.advance(10_000);
  w.settle();
  w.set(3, 'new', TaskState.FAILED);
  w.settle();
  assert.equal(w.dep.state, 'paused');

  const strict = world(4, { batch: 2, monitorSeconds: 10 });
  strict.settle();
  strict.set(2, 'new', TaskState.FAILED);
  strict.settle();
  assert.equal(strict.dep.state, 'paused', 'by default (SwarmKit\'s 0) one failure of four is too many');
});

test('a monitor window below the SLO applies the failure action; too few answers, or the check off, say nothing', () => {
  const bad = { total: 1000, failed: 20, target: 0.999 };
  const paused = world(2, { monitorSeconds: 10 });
  paused.settle();
  paused.dep.availability = bad;
  assert.equal(paused.settle().wakeAt, paused.now + 10_000, 'judged when the window ends, not before');
  assert.equal(paused.dep.state, 'running');
  paused.advance(10_000);
  paused.settle();
  assert.equal(paused.dep.state, 'paused');
  assert.equal(paused.dep.pausedBecause, 'availability 98 % in the monitor window of batch 1 (20 of 1000 answers failed) is below the SLO of 99.9 %');
  assert.deepEqual(paused.log, ['stop-old 1', 'start 1'], 'the next batch never began');

  const rolled = world(2, { monitorSeconds: 10, failureAction: 'rollback' });
  rolled.settle();
  rolled.dep.availability = bad;
  rolled.advance(10_000);
  rolled.settle();
  assert.deepEqual([rolled.dep.state, rolled.rollbacks], ['rolled-back', 1]);
  assert.equal(rolled.hosts[1]!.state, 'skipped');

  for (const [what, strategy, availability] of [
    ['met', {}, { total: 1000, failed: 1, target: 0.999 }],
    ['too few answers', {}, { total: SLO_CHECK_MIN_REQUESTS - 1, failed: 50, target: 0.999 }],
    ['the check off', { availabilityCheck: false }, bad],
  ] as const) {
    const w = world(2, { monitorSeconds: 10, ...strategy });
    w.settle();
    w.dep.availability = availability;
    w.advance(10_000);
    w.settle();
    w.advance(10_000);
    w.settle();
    assert.equal(w.dep.state, 'succeeded', what);
  }
});

test('stop: a host mid-switch finishes it, staged hosts are dropped and skipped', () => {
  const w = world(3, { monitorSeconds: 0 });
  w.step(); // stage
  w.agents();
  w.step(); // staged → host 1 stops its old process
  assert.deepEqual(w.log, ['stop-old 1']);
  w.dep.state = 'stopping';
  let p = w.step();
  assert.equal(w.dep.state, 'stopping', 'host 1 is mid-switch');
  w.agents(); // old stopped
  p = w.step();
  assert.deepEqual(p.start, [1], 'it starts the new process rather than staying down');
  w.agents();
  p = w.step();
  assert.equal(w.dep.state, 'stopped');
  assert.deepEqual(p.drop, [2, 3]);
  assert.deepEqual(w.hosts.map((h) => h.state), ['updated', 'skipped', 'skipped']);
});

test('pause: no host starts its switch, the ones in flight finish', () => {
  const w = world(2, { monitorSeconds: 0 });
  w.step();
  w.agents();
  w.step();
  w.dep.state = 'paused';
  w.agents();
  const p = w.step();
  assert.deepEqual(p.start, [1]);
  w.agents();
  w.step();
  assert.deepEqual(w.hosts.map((h) => h.state), ['updated', 'staged']);
  assert.equal(w.dep.state, 'paused');
});

test('a strategy out of range is refused with the field', () => {
  assert.equal(DeployStrategy.safeParse({ batch: 0 }).success, false);
  assert.equal(DeployStrategy.safeParse({ batch: '5 *0' }).success, false);
  assert.equal(DeployStrategy.safeParse({ maxFailureRatio: 1.5 }).success, false);
  assert.equal(DeployStrategy.safeParse({ order: 'random' }).success, false);
  assert.equal(DeployStrategy.safeParse({ extra: 1 }).success, false);
  assert.deepEqual(DeployStrategy.parse({}), { batch: 1, canary: false, order: 'stop-first', failureAction: 'pause', maxFailureRatio: 0, monitorSeconds: 5, availabilityCheck: true, delaySeconds: 0, healthTimeoutSeconds: 300 });
});

test('the refusal an agent gave is the reason, on the host and in the pause', () => {
  const w = world(2);
  w.step();
  w.agents({ refuseStage: [2] });
  w.hosts[1]!.error = 'artifact refused (corrupt): its sha256 is abc';
  const p = w.step();
  assert.match(p.hosts.find((h) => h.machineId === 2)!.reason ?? '', /could not be staged: artifact refused \(corrupt\)/);
  assert.match(w.dep.pausedBecause ?? '', /staging failed on 1 of 2 hosts \(artifact refused \(corrupt\): its sha256 is abc\): no host was changed/);
});

test('hosts already on the version are neither touched, watched nor waited for', () => {
  // A rollback after a partial deployment: hosts 2 and 3 run the version, host 1 does not.
  const w = world(1, { batch: 1, monitorSeconds: 5, delaySeconds: 60 });
  w.hosts.push({ machineId: 2, batch: 0, state: 'updated', oldTask: TaskState.RUNNING, newTask: null, since: 0 }, { machineId: 3, batch: 0, state: 'updated', oldTask: TaskState.RUNNING, newTask: null, since: 0 });
  w.settle();
  w.advance(5_000);
  w.settle();
  assert.equal(w.dep.state, 'succeeded', 'one monitor window, no delay');
  assert.deepEqual(w.log, ['stop-old 1', 'start 1']);

  const none = world(0);
  none.hosts.push({ machineId: 9, batch: 0, state: 'updated', oldTask: TaskState.RUNNING, newTask: null, since: 0 });
  none.settle();
  assert.equal(none.dep.state, 'succeeded', 'nothing to change finishes at once');
  assert.deepEqual(none.log, []);
});
