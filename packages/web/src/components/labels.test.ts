import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsToText, textToLabels } from './labels.ts';

test('labels round-trip through key=value lines, ignoring blank lines and spaces around =', () => {
  const labels = { team: 'web', 'canopy.io/tier': 'front=end', solo: '' };
  assert.deepEqual(textToLabels(labelsToText(labels)), labels);
  assert.deepEqual(textToLabels('  team = web \n\n solo\n'), { team: 'web', solo: '' });
  assert.deepEqual(textToLabels(undefined), {});
});
