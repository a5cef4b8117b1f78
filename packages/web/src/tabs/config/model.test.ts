import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EncClasses } from '@canopy/core';
import { bodyOf, draftOf, effectiveRows, fieldOfIssue, type ConfigDraft, type NodePuppet } from './model.ts';

const own = (classes: EncClasses | null): NonNullable<NodePuppet['own']> => ({
  classes,
  parameters: { ntp: 'pool.ntp.org', dns: ['10.0.0.2', '10.0.0.3'] },
  environment: null,
  version: 3,
  updatedAt: '2025-01-01T00:00:00.000Z',
  updatedBy: 'admin',
});

describe('the Config tab draft', () => {
  test('tells inherit (null), none ({}) and own classes apart, both ways', () => {
    assert.equal(draftOf(null).classMode, 'inherit');
    assert.equal(draftOf(own(null)).classMode, 'inherit');
    assert.equal(draftOf(own({})).classMode, 'none');
    assert.equal(draftOf(own({ nginx: {} })).classMode, 'own');
    for (const classes of [null, {}, { nginx: { port: 8080 } }] as (EncClasses | null)[]) {
      assert.deepEqual(bodyOf(draftOf(own(classes))).body.classes, classes);
    }
  });

  test('keeps strings as text and shows other values as JSON, so a round trip keeps their type', () => {
    const draft = draftOf(own({ nginx: { port: 8080, user: 'www', tls: true, extra: null } }));
    assert.deepEqual(draft.classes[0]?.params.map((p) => [p.kind, p.text]), [['json', '8080'], ['string', 'www'], ['json', 'true'], ['json', 'null']]);
    assert.deepEqual(draft.parameters.find((p) => p.name === 'dns'), { name: 'dns', kind: 'json', text: '["10.0.0.2","10.0.0.3"]' });
    const { body, errors } = bodyOf(draft);
    assert.deepEqual(errors, []);
    assert.deepEqual(body.classes, { nginx: { port: 8080, user: 'www', tls: true, extra: null } });
    assert.deepEqual(body.parameters, { ntp: 'pool.ntp.org', dns: ['10.0.0.2', '10.0.0.3'] });
    assert.equal(body.environment, null);
  });

  test('names the field of bad JSON, a bad or repeated name, and an own class set left empty', () => {
    const draft: ConfigDraft = {
      classMode: 'own',
      classes: [{ name: 'nginx', params: [{ name: 'port', kind: 'json', text: '80 80' }, { name: 'Port', kind: 'string', text: 'x' }] }],
      parameters: [{ name: 'ntp', kind: 'string', text: 'a' }, { name: 'ntp', kind: 'json', text: '' }],
      environment: ' staging ',
    };
    const { body, errors } = bodyOf(draft);
    assert.deepEqual(errors.map((e) => e.field.join('.')), ['classes.0.params.0.text', 'classes.0.params.1.name', 'parameters.1.name', 'parameters.1.text']);
    assert.equal(body.environment, 'staging');
    assert.deepEqual(bodyOf({ ...draft, classes: [] }).errors.map((e) => e.field.join('.')), ['classMode', 'parameters.1.name', 'parameters.1.text']);
  });

  test('puts a server issue on the row it names, on the name or the value by its wording', () => {
    const draft = draftOf(own({ nginx: { port: 80, user: 'www' } }));
    assert.deepEqual(fieldOfIssue(['classes', 'nginx', 'user'], "class 'nginx' has no parameter 'user' in the catalog", draft), ['classes', 0, 'params', 1, 'name']);
    assert.deepEqual(fieldOfIssue(['classes', 'nginx', 'port'], 'number must be finite', draft), ['classes', 0, 'params', 0, 'text']);
    assert.deepEqual(fieldOfIssue(['classes', 'nginx'], "class 'nginx' is not in the classes catalog", draft), ['classes', 0, 'name']);
    assert.deepEqual(fieldOfIssue(['parameters', 'dns', 1], 'string is too long', draft), ['parameters', 1, 'text']);
    assert.deepEqual(fieldOfIssue(['environment'], 'must match', draft), ['environment']);
    assert.equal(fieldOfIssue(['classes', 'apache'], 'not in catalog', draft), undefined);
  });
});

describe('the effective result', () => {
  test('lists environment, classes with their parameters, and parameters, each with its source node', () => {
    const rows = effectiveRows({
      nodePath: 'shop.web',
      classes: { nginx: { port: 8080 } },
      classesFrom: 'shop',
      parameters: { ntp: { value: 'pool', from: 'shop.web' } },
      environment: 'production',
      environmentFrom: null,
    });
    assert.deepEqual(
      rows.map((r) => [r.what, r.name, r.value, r.from]),
      [
        ['environment', '', 'production', null],
        ['class', 'nginx', null, 'shop'],
        ['class parameter', 'port', '8080', 'shop'],
        ['parameter', 'ntp', '"pool"', 'shop.web'],
      ],
    );
  });

  test('says why there are no classes', () => {
    const base = { nodePath: 'a', classes: {}, parameters: {}, environment: 'production', environmentFrom: null };
    assert.match(effectiveRows({ ...base, classesFrom: null })[1]!.name, /no node on the path/);
    assert.match(effectiveRows({ ...base, classesFrom: 'a' })[1]!.name, /deliberately/);
  });
});
