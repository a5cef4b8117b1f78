import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AlertRuleInput,
  alertStep,
  dueNotice,
  effectiveAlertRules,
  evaluateConditions,
  inWindow,
  judge,
  machineAlertRules,
  noticeText,
  parseFunction,
  recoveryDue,
  webhookBody,
  type AlertLife,
  type JudgeFunction,
  type Notice,
  type OwnAlertRule,
} from '../index.ts';

const pts = (...vs: number[]): [number, number][] => vs.map((v, i) => [1000 * (i + 1), v]);
const fn = (text: string) => parseFunction(text) as JudgeFunction;

describe("Open-Falcon's judge functions", () => {
  test('all(#3) fires only when each of the newest three points holds, and waits for three', () => {
    assert.deepEqual(judge(fn('all(#3)'), '>', 90, pts(10, 95, 96, 97), 0), { triggered: true, value: 97 });
    assert.equal(judge(fn('all(#3)'), '>', 90, pts(95, 80, 96, 97), 0).triggered, false);
    assert.deepEqual(judge(fn('all(#3)'), '>', 90, pts(95, 96), 0), { triggered: false, value: null }, 'not enough points');
  });
  test('avg, sum, max and min compare the aggregate of the newest n points', () => {
    assert.deepEqual(judge(fn('avg(#2)'), '>=', 5, pts(100, 4, 6), 0), { triggered: true, value: 5 });
    assert.deepEqual(judge(fn('sum(#3)'), '<', 10, pts(3, 3, 3), 0), { triggered: true, value: 9 });
    assert.deepEqual(judge(fn('max(#2)'), '==', 7, pts(9, 7, 1), 0), { triggered: true, value: 7 });
    assert.deepEqual(judge(fn('min(#2)'), '!=', 1, pts(9, 7, 1), 0), { triggered: false, value: 1 });
  });
  test('diff(#n) takes the newest point minus each of the n before it; any one holding fires', () => {
    // newest 50: 50-45=5, 50-10=40 → the second holds.
    assert.deepEqual(judge(fn('diff(#2)'), '>', 30, pts(10, 45, 50), 0), { triggered: true, value: 40 });
    assert.equal(judge(fn('diff(#2)'), '>', 30, pts(45, 50), 0).triggered, false, 'needs n+1 points');
    assert.equal(judge(fn('diff(#1)'), '>', 30, pts(10, 45, 50), 0).triggered, false);
  });
  test('pdiff(#n) is the change in percent and skips a zero base', () => {
    assert.deepEqual(judge(fn('pdiff(#1)'), '>=', 100, pts(50, 100), 0), { triggered: true, value: 100 });
    assert.equal(judge(fn('pdiff(#2)'), '>', 10, pts(0, 100, 105), 0).triggered, false);
    assert.equal(judge(fn('pdiff(#1)'), '<', -50, pts(100, 40), 0).triggered, true);
  });
  test('nodata(s) fires when the newest point is older than s seconds, or there is none', () => {
    assert.equal(judge(fn('nodata(60)'), '==', 0, [[100_000, 1]], 150_000).triggered, false);
    assert.equal(judge(fn('nodata(60)'), '==', 0, [[100_000, 1]], 160_001).triggered, true);
    assert.equal(judge(fn('nodata(60)'), '==', 0, [], 0).triggered, true);
  });
  test('a malformed function is refused with the accepted forms', () => {
    for (const bad of ['all(3)', 'avg(#0)', 'max(#101)', 'nodata(#3)', 'median(#3)', 'all(#3);drop']) assert.equal(typeof parseFunction(bad), 'string', bad);
  });
});

describe('evaluating a rule on one machine', () => {
  const cond = (metric: string, f: string, op: '>' | '<', threshold: number) => ({ metric, fn: f, op, threshold });
  test('one condition: a verdict per series, so each mount alerts on its own', () => {
    const v = evaluateConditions([cond('disk', 'all(#1)', '>', 90)], [[{ labels: { mount: '/' }, points: pts(95) }, { labels: { mount: '/data' }, points: pts(50) }]], 0);
    assert.deepEqual(v.map((x) => [x.labels, x.holds]), [[{ mount: '/' }, true], [{ mount: '/data' }, false]]);
  });
  test('several conditions are joined by AND into one verdict for the machine', () => {
    const conds = [cond('cpu', 'all(#1)', '>', 90), cond('load', 'all(#1)', '>', 8)];
    assert.equal(evaluateConditions(conds, [[{ labels: {}, points: pts(95) }], [{ labels: {}, points: pts(9) }]], 0)[0]!.holds, true);
    assert.equal(evaluateConditions(conds, [[{ labels: {}, points: pts(95) }], [{ labels: {}, points: pts(2) }]], 0)[0]!.holds, false);
    assert.equal(evaluateConditions(conds, [[{ labels: {}, points: pts(95) }], []], 0)[0]!.holds, false, 'no series: the condition does not hold');
  });
  test('nodata holds on a machine that has no series at all', () => {
    assert.deepEqual(evaluateConditions([{ metric: 'x', fn: 'nodata(30)', op: '==', threshold: 0 }], [[]], 0), [{ key: '', labels: {}, holds: true, value: null }]);
  });
});

function own(nodeId: number, nodePath: string, name: string, input: unknown): OwnAlertRule {
  return { nodeId, nodePath, name, spec: AlertRuleInput.parse(input), updatedBy: 't', updatedAt: '' };
}

describe('inheritance and override down the tree', () => {
  const disk90 = own(1, 'corp', 'disk', { conditions: [{ metric: 'd', fn: 'all(#1)', op: '>', threshold: 90 }] });
  const disk95 = own(2, 'corp.db', 'disk', { conditions: [{ metric: 'd', fn: 'all(#1)', op: '>', threshold: 95 }] });
  const cpu = own(1, 'corp', 'cpu', { conditions: [{ metric: 'c', fn: 'avg(#3)', op: '>', threshold: 90 }] });
  const noCpu = own(3, 'corp.batch', 'cpu', { disabled: true });
  const rules = new Map([[1, [disk90, cpu]], [2, [disk95]], [3, [noCpu]]]);
  const line = (...ids: number[]) => ids.map((id) => ({ id }));

  test('a child rule of the same name replaces the inherited one and says what it overrides', () => {
    const eff = effectiveAlertRules(line(1, 2), rules);
    assert.deepEqual(eff.map((e) => [e.name, e.rule.nodePath, e.overrides]), [['cpu', 'corp', []], ['disk', 'corp.db', ['corp']]]);
  });
  test('a child can disable an inherited rule; the machine is not judged by it', () => {
    const eff = effectiveAlertRules(line(1, 3), rules);
    assert.equal(eff.find((e) => e.name === 'cpu')!.rule.spec.disabled, true);
    assert.deepEqual(machineAlertRules([{ nodePath: 'corp.batch', rules: eff }]).map((r) => r.rule.name), ['disk']);
  });
  test('a machine in several nodes takes, per name, the entry set deepest', () => {
    const got = machineAlertRules([
      { nodePath: 'corp.batch', rules: effectiveAlertRules(line(1, 3), rules) },
      { nodePath: 'corp.db', rules: effectiveAlertRules(line(1, 2), rules) },
    ]);
    assert.deepEqual(got.map((r) => [r.rule.name, r.rule.rule.nodePath, r.via]), [['disk', 'corp.db', 'corp.db']], 'cpu disabled deeper (corp.batch) than its rule (corp)');
  });
});

describe('an alert through its life', () => {
  const rule = { forSeconds: 60, recoverySeconds: 30 };
  test('pending for forSeconds, then firing; recovering for recoverySeconds, then resolved', () => {
    let s = alertStep(undefined, true, 0, rule);
    assert.equal(s.transition, 'pending');
    s = alertStep(s.life, true, 59_000, rule);
    assert.equal(s.transition, undefined);
    s = alertStep(s.life, true, 60_000, rule);
    assert.deepEqual([s.transition, s.life?.phase], ['fired', 'firing']);
    s = alertStep(s.life, false, 70_000, rule);
    assert.deepEqual([s.transition, s.life?.phase], [undefined, 'recovering']);
    s = alertStep(s.life, true, 80_000, rule);
    assert.deepEqual([s.transition, s.life?.phase], [undefined, 'firing'], 'a swing back fires on without a new notice');
    s = alertStep(s.life, false, 90_000, rule);
    s = alertStep(s.life, false, 120_000, rule);
    assert.deepEqual([s.transition, s.life], ['resolved', undefined]);
  });
  test('a pending alert that stops holding is cleared, never fired', () => {
    const s = alertStep(alertStep(undefined, true, 0, rule).life, false, 1000, rule);
    assert.deepEqual([s.transition, s.life], ['cleared', undefined]);
  });
  test('with no for-duration it fires at once', () => {
    const s = alertStep(undefined, true, 5, { forSeconds: 0, recoverySeconds: 0 });
    assert.deepEqual(s.life, { phase: 'firing', startedMs: 5, firedMs: 5 } satisfies AlertLife);
  });
  test('notices: first, repeats up to the maximum, none once acknowledged, one escalation, silence tells nobody', () => {
    const r = { maxNotifications: 3, repeatIntervalSeconds: 60, escalation: { afterMinutes: 10, receivers: ['boss'] } };
    const told = { count: 0, lastMs: null, escalated: false, acked: false, silenced: false };
    assert.equal(dueNotice(0, told, 0, r), 'firing');
    assert.equal(dueNotice(0, { ...told, count: 1, lastMs: 0 }, 59_000, r), undefined);
    assert.equal(dueNotice(0, { ...told, count: 1, lastMs: 0 }, 60_000, r), 'repeat');
    assert.equal(dueNotice(0, { ...told, count: 3, lastMs: 0 }, 120_000, r), undefined, 'max reached');
    assert.equal(dueNotice(0, { ...told, count: 3, lastMs: 0 }, 600_000, r), 'escalation');
    assert.equal(dueNotice(0, { ...told, count: 3, lastMs: 0, escalated: true }, 900_000, r), undefined);
    assert.equal(dueNotice(0, { ...told, count: 1, lastMs: 0, acked: true }, 900_000, r), undefined, 'acknowledged: no repeat, no escalation');
    assert.equal(dueNotice(0, { ...told, silenced: true }, 0, r), undefined);
    assert.equal(recoveryDue({ ...told, count: 1 }, { notifyRecovery: true }), true);
    assert.equal(recoveryDue(told, { notifyRecovery: true }), false, 'never told it fired');
  });
  test('active window: days and hours in its time zone, overnight windows included', () => {
    const w = { days: [1, 2, 3, 4, 5], start: '09:00', end: '18:00', timezone: 'Asia/Shanghai' };
    assert.equal(inWindow(w, Date.parse('2026-12-07T01:30:00Z')), true, 'Monday 09:30 in Shanghai');
    assert.equal(inWindow(w, Date.parse('2026-12-07T00:30:00Z')), false, 'Monday 08:30 in Shanghai');
    assert.equal(inWindow(w, Date.parse('2026-12-06T02:00:00Z')), false, 'Sunday');
    const night = { days: [5], start: '22:00', end: '06:00', timezone: 'UTC' };
    assert.equal(inWindow(night, Date.parse('2026-12-04T23:00:00Z')), true, 'Friday 23:00');
    assert.equal(inWindow(night, Date.parse('2026-12-05T05:00:00Z')), true, 'Saturday 05:00 belongs to Friday night');
    assert.equal(inWindow(night, Date.parse('2026-12-06T05:00:00Z')), false, 'Sunday 05:00');
  });
});

describe('rule input', () => {
  test('bad rules are refused naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [{}, /at least one condition/],
      [{ disabled: true, conditions: [{ metric: 'a', fn: 'all(#1)', op: '>', threshold: 1 }] }, /no conditions/],
      [{ conditions: [{ metric: 'a b', fn: 'all(#1)', op: '>', threshold: 1 }] }, /metric name/],
      [{ conditions: [{ metric: 'a', fn: 'all(1)', op: '>', threshold: 1 }] }, /all\(#n\)/],
      [{ conditions: [{ metric: 'a', fn: 'all(#1)', op: '=~', threshold: 1 }] }, /op/],
      [{ conditions: [{ metric: 'a', fn: 'all(#1)', op: '>', threshold: 1 }], summary: '{{nope}}' }, /unknown template variable/],
      [{ conditions: [{ metric: 'a', fn: 'all(#1)', op: '>', threshold: 1 }], activeWindow: { timezone: 'Mars/Base' } }, /IANA/],
    ];
    for (const [input, why] of cases) {
      const r = AlertRuleInput.safeParse(input);
      assert.equal(r.success, false, JSON.stringify(input));
      assert.match(JSON.stringify(r.error?.issues), why);
    }
  });
});

describe('notifications', () => {
  const notice: Notice = {
    kind: 'firing', rule: 'agent-down', severity: 'critical', node: 'corp.rack1', origin: 'corp', summary: '{{count}} agents silent', source: 'canopy',
    alerts: Array.from({ length: 40 }, (_, i) => ({ id: i, machine: `m${i}.example`, labels: {}, value: 0, startedAt: '2026-12-03T17:00:00.000Z' })),
  };
  test('one message names every machine of the group, with the count', () => {
    const text = noticeText(notice);
    assert.match(text, /^\[FIRING\] critical agent-down on corp\.rack1: 40 machine\(s\)\n40 agents silent\n/);
    for (let i = 0; i < 40; i++) assert.ok(text.includes(`m${i}.example`));
  });
  test('a template fills its variables', () => {
    assert.equal(noticeText({ ...notice, kind: 'resolved' }, '{{status}} {{rule}}@{{origin}} x{{count}}'), 'RESOLVED agent-down@corp x40');
  });
  test('each robot gets its own JSON shape', () => {
    assert.deepEqual(Object.keys(webhookBody('dingtalk', notice, 'hi')), ['msgtype', 'markdown']);
    assert.deepEqual(webhookBody('wecom', notice, 'a\nb'), { msgtype: 'markdown', markdown: { content: 'a  \nb' } });
    assert.deepEqual(webhookBody('feishu', notice, 'hi'), { msg_type: 'text', content: { text: 'hi' } });
    assert.deepEqual(webhookBody('slack', notice, 'hi'), { text: 'hi' });
    const json = webhookBody('json', notice, 'hi');
    assert.equal(json['count'], 40);
    assert.equal(Buffer.byteLength((webhookBody('wecom', notice, 'x'.repeat(10_000)) as { markdown: { content: string } }).markdown.content) <= 4000, true, 'clipped to the robot limit');
  });
});
