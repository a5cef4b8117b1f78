import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parse } from 'yaml';
import { encDocumentArb, TRICKY_STRINGS } from './arbitraries.ts';
import { formatYamlNumber, quoteYamlString, renderEncYaml } from './render.ts';

describe('renderEncYaml', () => {
  test('round-trips any document: parse(render(x)) deep-equals x', () => {
    fc.assert(
      fc.property(encDocumentArb, (doc) => {
        assert.deepStrictEqual(parse(renderEncYaml(doc)), doc);
      }),
      { numRuns: 500 },
    );
  });

  test('keeps every tricky string a string, as itself', () => {
    const parameters = Object.fromEntries(TRICKY_STRINGS.map((s, i) => [`p${i}`, s]));
    const keys = Object.fromEntries(TRICKY_STRINGS.map((s, i) => [s, i]));
    const doc = { classes: { web: { keys } }, parameters, environment: 'production' };
    assert.deepStrictEqual(parse(renderEncYaml(doc)), doc);
  });

  test('tags a << key as a string, since Psych would merge it even quoted', () => {
    const text = renderEncYaml({ classes: {}, parameters: { m: { '<<': { a: 1 } } }, environment: 'production' });
    assert.match(text, /^ {4}!!str "<<":$/m);
    assert.deepStrictEqual(parse(text).parameters, { m: { '<<': { a: 1 } } });
  });

  test('writes pure ASCII, with no anchors, aliases or tags', () => {
    const shared = { a: '服务树 😀', b: ['x'] };
    const text = renderEncYaml({ classes: { one: { s: shared }, two: { s: shared } }, parameters: { t: '\u2028' }, environment: 'production' });
    assert.match(text, /^[\x20-\x7e\n]*$/);
    assert.doesNotMatch(text, /[&*!][a-z0-9]/);
    assert.match(text, /"\\u670d\\u52a1\\u6811 \\U0001f600"/);
  });

  test('writes the ENC shape Puppet expects', () => {
    const text = renderEncYaml({ classes: { base: {}, nginx: { worker_processes: 4 } }, parameters: { canopy_node: 'corp.web' }, environment: 'production' });
    assert.equal(
      text,
      '---\n"classes":\n  "base": {}\n  "nginx":\n    "worker_processes": 4\n"parameters":\n  "canopy_node": "corp.web"\n"environment": "production"\n',
    );
  });
});

describe('scalars for Psych', () => {
  test('non-integers always carry a decimal point, since Psych reads 1e+21 as a string', () => {
    assert.equal(formatYamlNumber(1e21), '1.0e+21');
    assert.equal(formatYamlNumber(5e-324), '5.0e-324');
    assert.equal(formatYamlNumber(1.5e-7), '1.5e-7');
    assert.equal(formatYamlNumber(0.25), '0.25');
    assert.equal(formatYamlNumber(-0), '-0.0');
    assert.equal(formatYamlNumber(42), '42');
    assert.equal(formatYamlNumber(2 ** 60), '1152921504606847000.0');
    assert.throws(() => formatYamlNumber(Number.NaN), /cannot render/);
  });

  test('strings are double-quoted with escapes YAML 1.1 understands', () => {
    assert.equal(quoteYamlString('a"b\\c\nd\te'), '"a\\"b\\\\c\\nd\\te"');
    assert.equal(quoteYamlString('\u0000\u0085😀'), '"\\u0000\\u0085\\U0001f600"');
    assert.throws(() => quoteYamlString('\ud800'), /lone surrogate/);
  });
});
