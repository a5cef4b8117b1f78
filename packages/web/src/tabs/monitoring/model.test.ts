import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conditionsText, originText, parseRuleBody, ruleBody, silenceScope, type EffectiveRule } from './model.ts';

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
