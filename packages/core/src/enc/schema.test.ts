import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { classNameProblem, classParamProblem, environmentProblem, isClassName, topScopeParamProblem } from './grammar.ts';
import { encValuesEqual, isEncValue, valueIssues, VALUE_LIMITS } from './values.ts';
import { encAssociationInputSchema, encDefaultsSchema, encQuerySchema } from './schema.ts';

describe('Puppet name grammar', () => {
  test('accepts module and namespaced class names', () => {
    for (const name of ['nginx', 'profile::web', 'role::db::mysql_8', 'a1']) assert.ok(isClassName(name), name);
  });

  test('refuses names Puppet would refuse, saying why', () => {
    assert.match(classNameProblem('Nginx')!, /lower-case/);
    assert.match(classNameProblem('nginx::')!, /lower-case/);
    assert.match(classNameProblem('1nginx')!, /lower-case/);
    assert.match(classNameProblem('web-server')!, /lower-case/);
    assert.match(classNameProblem('::nginx')!, /without the leading '::'/);
    assert.match(classNameProblem('class')!, /reserved/);
    assert.match(classNameProblem('main')!, /reserved/);
    assert.match(classNameProblem('integer')!, /reserved/);
    assert.match(classNameProblem('apache::init')!, /reserved/);
    assert.equal(classNameProblem('apache::default'), null);
  });

  test('class parameters may not be name or title; top-scope names avoid Puppet and Canopy variables', () => {
    assert.equal(classParamProblem('worker_processes'), null);
    assert.match(classParamProblem('title')!, /reserved/);
    assert.match(classParamProblem('Port')!, /must match/);
    assert.equal(topScopeParamProblem('dns_servers'), null);
    assert.match(topScopeParamProblem('trusted')!, /reserves/);
    assert.match(topScopeParamProblem('facts')!, /reserves/);
    assert.match(topScopeParamProblem('canopy_node')!, /set by Canopy/);
  });

  test('environment names follow Puppet: [a-z0-9_]+, not a puppet.conf section', () => {
    assert.equal(environmentProblem('production'), null);
    assert.equal(environmentProblem('feature_42'), null);
    assert.match(environmentProblem('Prod')!, /must match/);
    assert.match(environmentProblem('my-env')!, /must match/);
    assert.match(environmentProblem('main')!, /section/);
  });
});

describe('parameter values', () => {
  test('accepts JSON data and reports each bad element with its path', () => {
    assert.ok(isEncValue({ a: [1, 'x', true, null, { b: 2.5 }] }));
    const issues = valueIssues({ ok: 1, bad: [1, Number.NaN, { f: () => 1 }], s: 'a\uD800' });
    assert.deepEqual(
      issues.map((i) => i.path),
      [['bad', 1], ['bad', 2, 'f'], ['s']],
    );
  });

  test('bounds depth without recursing, so a very deep value cannot overflow the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const issues = valueIssues(deep);
    assert.equal(issues.length, 1);
    assert.match(issues[0]!.message, /nest deeper/);
    assert.equal(issues[0]!.path.length, VALUE_LIMITS.maxDepth);
  });

  test('bounds the size of strings and collections', () => {
    assert.match(valueIssues('x'.repeat(VALUE_LIMITS.maxString + 1))[0]!.message, /longer/);
    assert.match(valueIssues(new Array(VALUE_LIMITS.maxEntries + 1).fill(0))[0]!.message, /entries/);
  });

  test('equality ignores hash key order but not array order', () => {
    assert.ok(encValuesEqual({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }));
    assert.ok(!encValuesEqual([1, 2], [2, 1]));
    assert.ok(!encValuesEqual({ a: null }, {}));
    assert.ok(!encValuesEqual('1', 1));
  });
});

describe('API schemas', () => {
  test('an association distinguishes inherit (absent/null) from no classes ({})', () => {
    assert.deepEqual(encAssociationInputSchema.parse({ parameters: { ntp: 'pool' } }), { parameters: { ntp: 'pool' } });
    assert.deepEqual(encAssociationInputSchema.parse({ classes: {} }), { classes: {} });
    assert.deepEqual(encAssociationInputSchema.parse({ classes: null, environment: null }), { classes: null, environment: null });
  });

  test('refuses bad class names, parameter names and values, naming the field', () => {
    const r = encAssociationInputSchema.safeParse({
      classes: { 'Bad-Name': {}, nginx: { title: 'x', port: Number.POSITIVE_INFINITY } },
      parameters: { canopy_zone: 'x' },
      environment: 'Prod',
      extra: 1,
    });
    assert.ok(!r.success);
    const paths = r.error.issues.map((i) => i.path.join('.'));
    assert.ok(paths.includes('classes.Bad-Name'), paths.join(' | '));
    assert.ok(paths.includes('classes.nginx.title'), paths.join(' | '));
    assert.ok(paths.includes('classes.nginx.port'), paths.join(' | '));
    assert.ok(paths.includes('parameters.canopy_zone'), paths.join(' | '));
    assert.ok(paths.includes('environment'), paths.join(' | '));
  });

  test('defaults fall back to the production environment', () => {
    assert.deepEqual(encDefaultsSchema.parse({ classes: { base: {} } }), { classes: { base: {} }, environment: 'production' });
  });

  test('the ENC query takes a lower-case host name', () => {
    assert.ok(encQuerySchema.safeParse({ hostname: 'web1.example.com' }).success);
    assert.ok(!encQuerySchema.safeParse({ hostname: 'Web1.example.com' }).success);
    assert.ok(!encQuerySchema.safeParse({ hostname: 'web1 --evil' }).success);
  });
});
