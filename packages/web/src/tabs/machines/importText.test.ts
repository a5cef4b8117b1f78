import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { detectFormat, prepareImport } from './importText.ts';

describe('import body preparation', () => {
  test('tells JSON from CSV by the first character', () => {
    assert.equal(detectFormat('  [{"hostname":"a"}]'), 'json');
    assert.equal(detectFormat('{"machines":[]}'), 'json');
    assert.equal(detectFormat('hostname,ips\na,10.0.0.1'), 'csv');
  });

  test('binds JSON rows that name no node to the current node, keeping rows that do', () => {
    const out = JSON.parse(prepareImport('{"machines":[{"hostname":"a"},{"hostname":"b","nodes":["x.y"]},{"hostname":"c","nodes":[]}]}', 'json', 'shop.web'));
    assert.deepEqual(out, [
      { hostname: 'a', nodes: ['shop.web'] },
      { hostname: 'b', nodes: ['x.y'] },
      { hostname: 'c', nodes: ['shop.web'] },
    ]);
  });

  test('adds a nodes column to plain CSV, and leaves CSV with a nodes column or quotes alone', () => {
    assert.equal(prepareImport('hostname,ips\na,10.0.0.1\n\nb,10.0.0.2\n', 'csv', 'shop.web'), 'hostname,ips,nodes\na,10.0.0.1,shop.web\n\nb,10.0.0.2,shop.web\n');
    const withNodes = 'hostname,nodes\na,x.y';
    assert.equal(prepareImport(withNodes, 'csv', 'shop.web'), withNodes);
    const quoted = 'hostname,labels\na,"team=web"';
    assert.equal(prepareImport(quoted, 'csv', 'shop.web'), quoted);
  });

  test('sends the text unchanged when not asked to bind, or when the JSON does not parse', () => {
    assert.equal(prepareImport('hostname\na', 'csv', undefined), 'hostname\na');
    assert.equal(prepareImport('[{"hostname":', 'json', 'shop.web'), '[{"hostname":');
  });
});
