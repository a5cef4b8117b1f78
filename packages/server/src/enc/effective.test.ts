import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chainFor, effectiveConfig, type AssociationRecord } from './effective.ts';

describe('effectiveConfig', () => {
  test('a node with no classes of its own uses its nearest ancestor that has some, whole', () => {
    const e = effectiveConfig([
      { nodePath: 'corp', classes: { base: {} } },
      { nodePath: 'corp.web', classes: { base: {}, nginx: { worker_processes: 4 } } },
      { nodePath: 'corp.web.api' },
    ]);
    assert.deepEqual(e.classes, { base: {}, nginx: { worker_processes: 4 } });
    assert.equal(e.classesFrom, 'corp.web');
    assert.equal(e.nodePath, 'corp.web.api');
  });

  test('a child that sets classes replaces its parent\'s set instead of adding to it', () => {
    const e = effectiveConfig([
      { nodePath: 'corp', classes: { base: {}, ntp: {} } },
      { nodePath: 'corp.db', classes: { mysql: {} } },
    ]);
    assert.deepEqual(e.classes, { mysql: {} });
    assert.equal(e.classesFrom, 'corp.db');
  });

  test('an explicit empty class set stops inheritance; null inherits', () => {
    const chain: AssociationRecord[] = [{ nodePath: 'corp', classes: { base: {} } }, { nodePath: 'corp.lab', classes: {} }];
    assert.deepEqual(effectiveConfig(chain).classes, {});
    assert.equal(effectiveConfig(chain).classesFrom, 'corp.lab');
    const inherit = effectiveConfig([{ nodePath: 'corp', classes: { base: {} } }, { nodePath: 'corp.lab', classes: null }]);
    assert.equal(inherit.classesFrom, 'corp');
  });

  test('top-scope parameters merge from the root down, nearer node winning, values replaced whole', () => {
    const e = effectiveConfig([
      { nodePath: 'corp', parameters: { ntp: 'pool.ntp.org', dns: ['10.0.0.1', '10.0.0.2'], limits: { a: 1, b: 2 } } },
      { nodePath: 'corp.web', parameters: { dns: ['10.1.0.1'] } },
      { nodePath: 'corp.web.api', parameters: { limits: { a: 5 } } },
    ]);
    assert.deepEqual(e.parameters, {
      dns: { value: ['10.1.0.1'], from: 'corp.web' },
      limits: { value: { a: 5 }, from: 'corp.web.api' },
      ntp: { value: 'pool.ntp.org', from: 'corp' },
    });
  });

  test('the environment is the nearest one set, else production', () => {
    const set = effectiveConfig([{ nodePath: 'corp', environment: 'stable' }, { nodePath: 'corp.web', environment: null }]);
    assert.deepEqual([set.environment, set.environmentFrom], ['stable', 'corp']);
    const unset = effectiveConfig([{ nodePath: 'corp' }, { nodePath: 'corp.web' }]);
    assert.deepEqual([unset.environment, unset.environmentFrom], ['production', null]);
    assert.deepEqual([unset.classes, unset.classesFrom], [{}, null]);
  });

  test('refuses a chain that is empty, does not start at a root, or skips a level', () => {
    assert.throws(() => effectiveConfig([]), /empty/);
    assert.throws(() => effectiveConfig([{ nodePath: 'corp.web' }]), /root/);
    assert.throws(() => effectiveConfig([{ nodePath: 'corp' }, { nodePath: 'corp.web.api' }]), /follow/);
    assert.throws(() => effectiveConfig([{ nodePath: 'corp.web' }, { nodePath: 'corp' }]), /root/);
  });
});

describe('chainFor', () => {
  test('fills nodes without records with empty ones and ignores unrelated records', () => {
    const chain = chainFor('corp.web.api', [
      { nodePath: 'corp.web', classes: { nginx: {} } },
      { nodePath: 'corp.db', classes: { mysql: {} } },
    ]);
    assert.deepEqual(chain, [{ nodePath: 'corp' }, { nodePath: 'corp.web', classes: { nginx: {} } }, { nodePath: 'corp.web.api' }]);
    assert.equal(effectiveConfig(chain).classesFrom, 'corp.web');
  });
});
