import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '@canopy/core';
import { CanopyApiError, CanopyNetworkError, type NodeView } from '@canopy/sdk';
import { formatError, table } from './output.ts';
import { commandWord } from './program.ts';
import { outline, parseLabels } from './commands/tree.ts';

describe('table', () => {
  test('aligns columns, upper-cases headers, shows blanks as - and does not pad the last column', () => {
    const out = table(['name', 'count', 'note'], [['web', 12, 'front'], ['database', null, '']]);
    assert.equal(out, 'NAME      COUNT  NOTE\nweb       12     front\ndatabase  -      -\n');
  });

  test('prints the empty text when there are no rows', () => {
    assert.equal(table(['a'], [], '(none)\n'), '(none)\n');
  });
});

describe('formatError', () => {
  test('API errors: one line with the code, then each field issue', () => {
    const err = new CanopyApiError(400, 'validation_failed', 'invalid body: name bad', [{ path: ['body', 'name'], message: 'bad' }]);
    assert.equal(formatError(err), 'error: invalid name: bad (validation_failed)\n  name: bad\n');
  });

  test("API errors name the command's flags and arguments, not query parameters and body fields", () => {
    const shape = { flags: ['--under', '--ip', '--json'], args: ['path'] };
    const under = new CanopyApiError(400, 'validation_failed', 'name a subtree with ?under=', [{ path: ['querystring', 'under'], message: 'required unless you are a superuser' }]);
    assert.equal(formatError(under, shape), 'error: name a subtree with --under (validation_failed)\n  --under: required unless you are a superuser\n');
    const ips = new CanopyApiError(400, 'validation_failed', 'invalid body: ips.0 not an IP; path bad', [
      { path: ['body', 'ips', 0], message: 'not an IP' },
      { path: ['params', 'path'], message: 'bad' },
    ]);
    assert.equal(formatError(ips, shape), 'error: invalid --ip[0]: not an IP; <path>: bad (validation_failed)\n  --ip[0]: not an IP\n  <path>: bad\n');
  });

  test('core domain errors read the same way, without loading their classes', () => {
    const err = new ValidationError('give --count', [{ path: ['count'], message: 'required' }]);
    assert.equal(formatError(err), 'error: give --count (validation_failed)\n  count: required\n');
  });

  test('other errors are just their message', () => {
    assert.equal(formatError(new CanopyNetworkError('http://x', new Error('boom'))), 'error: cannot reach http://x: boom\n');
    assert.equal(formatError(Object.assign(new Error('no such file'), { code: 'ENOENT' })), 'error: no such file\n');
  });
});

describe('commandWord', () => {
  const takes = new Set(['--url', '--token']);
  test('skips global options and their values', () => {
    assert.equal(commandWord(['--url', 'http://x', '--token', 't', 'tree', 'ls'], takes), 'tree');
    assert.equal(commandWord(['--url=http://x', 'machine'], takes), 'machine');
  });
  test('after help, names the command asked about', () => {
    assert.equal(commandWord(['help', 'grant'], takes), 'grant');
    assert.equal(commandWord(['--help'], takes), undefined);
  });
});

function node(path: string, extra: Partial<NodeView> = {}): NodeView {
  const parts = path.split('.');
  return {
    id: 1, name: parts.at(-1) ?? path, path, parentPath: parts.slice(0, -1).join('.') || null, description: '', labels: {}, version: 1,
    createdAt: '', updatedAt: '', machineCount: 0, subtreeMachineCount: 0, childCount: 0, pathOnly: false, allowed: [], ...extra,
  };
}

describe('tree outline', () => {
  test('indents children under their parents in tree order and marks unexpanded children', () => {
    const nodes = [node('a.b-c'), node('a.b', { childCount: 2, subtreeMachineCount: 3 }), node('a.a')];
    const lines = outline(node('a'), nodes, 1, false).split('\n').map((l) => l.trimEnd());
    assert.deepEqual(lines.map((l) => /^ *\S+( \(\+\d+\))?/.exec(l)?.[0]), ['NODE', 'a', '  a', '  b (+2)', '  b-c', undefined]);
  });

  test('a search shows full paths, flat', () => {
    assert.match(outline(undefined, [node('x.y.z')], 3, true), /^PATH +MACHINES +LABELS +DESCRIPTION\nx\.y\.z /);
  });

  test('labels parse as key=value and anything else is refused', () => {
    assert.deepEqual(parseLabels(['team=sre', 'url=a=b']), { team: 'sre', url: 'a=b' });
    assert.throws(() => parseLabels(['nope']), /must look like key=value/);
  });
});
