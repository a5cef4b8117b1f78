import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conditionsText, originText, parseMatch, parseRuleBody, ruleBody, ruleFormOf, ruleFromForm, silenceScope, type EffectiveRule } from './model.ts';

const rule: EffectiveRule = {
  name: 'disk', origin: 'corp', inherited: true, overrides: [], disabled: false, description: '', severity: 'critical', summary: '',
  conditions: [{ metric: 'disk_used_percent', fn: 'all(#3)', op: '>', threshold: 90, match: { mountpoint: '/' } }, { metric: 'node_load1', fn: 'avg(#2)', op: '>', threshold: 4 }],
  forSeconds: 0, recoverySeconds: 0, receivers: ['ops'],
};

test('conditions read as the rule judges them, joined by AND', () => {
  assert.equal(conditionsText(rule.conditions), 'all(#3) disk_used_percent{mountpoint="/"} > 90 AND avg(#2) node_load1 > 4');
});

test('the origin says where a rule is set and what it overrides', () => {
  assert.equal(originText(rule), 'from corp');
  assert.equal(originText({ inherited: false, origin: 'corp.db', overrides: ['corp'] }), 'set here, overrides corp');
});

test("the editor starts from the rule's API body, without the view's fields", () => {
  const body = JSON.parse(ruleBody({ ...rule, updatedBy: 'x' } as EffectiveRule));
  assert.deepEqual(Object.keys(body).filter((k) => ['name', 'origin', 'inherited', 'overrides', 'updatedBy'].includes(k)), []);
  assert.equal(body.severity, 'critical');
  assert.equal(typeof parseRuleBody('[1]'), 'string');
  assert.match(String(parseRuleBody('{')), /not JSON/);
});

test('a silence scope names what it mutes', () => {
  assert.equal(silenceScope({ id: 1, node: 'corp', rule: null, machine: 'a.example', match: { mountpoint: '/data' }, startsAt: '', endsAt: '', comment: '', createdBy: '' }), 'node corp, every rule, machine a.example, {mountpoint=/data}');
});

test('the form edits the common fields and keeps the rest of the rule; an incomplete one says what is missing', () => {
  const base = { ...JSON.parse(ruleBody(rule)), activeWindow: { days: [1, 2], start: '09:00', end: '18:00', timezone: 'Asia/Shanghai' } };
  const form = ruleFormOf(base);
  assert.deepEqual(form.conditions[0], { metric: 'disk_used_percent', match: 'mountpoint=/', fn: 'all(#3)', op: '>', threshold: 90 });
  form.conditions[0]!.match = 'mountpoint=/data, fstype = ext4';
  form.severity = 'warning';
  const body = ruleFromForm(form, base) as Record<string, any>;
  assert.deepEqual(body['conditions'][0], { metric: 'disk_used_percent', fn: 'all(#3)', op: '>', threshold: 90, match: { mountpoint: '/data', fstype: 'ext4' } });
  assert.deepEqual([body['severity'], body['receivers'], body['activeWindow'].start], ['warning', ['ops'], '09:00'], 'the active window rides along');
  assert.equal(ruleFromForm({ ...form, conditions: [{ ...form.conditions[0]!, threshold: null }] }, base), 'condition 1: give a threshold');
  assert.equal(ruleFromForm({ ...form, conditions: [] }, base), 'a rule needs a condition');
  assert.equal(parseMatch('mountpoint'), 'labels: "mountpoint" is not label=value');
  assert.deepEqual(parseMatch(' '), {});
});
