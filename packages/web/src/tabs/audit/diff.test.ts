import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { diffRows } from './diff.ts';

describe('audit before/after diff', () => {
  test('marks each field as changed, added, removed or the same', () => {
    const rows = diffRows({ path: 'a.b', description: 'old', labels: { t: '1' } }, { path: 'a.b', description: 'new', version: 2 });
    assert.deepEqual(rows, [
      { field: 'path', before: 'a.b', after: 'a.b', change: 'same' },
      { field: 'description', before: 'old', after: 'new', change: 'changed' },
      { field: 'labels', before: '{"t":"1"}', after: undefined, change: 'removed' },
      { field: 'version', before: undefined, after: '2', change: 'added' },
    ]);
  });

  test('compares values that are not objects as one row, and nothing when both are empty', () => {
    assert.deepEqual(diffRows(null, ['alice', 'bob']), [{ field: 'value', before: undefined, after: '["alice","bob"]', change: 'added' }]);
    assert.deepEqual(diffRows(null, null), []);
  });
});
