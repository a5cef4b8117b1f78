/**
 * Test support: fast-check arbitraries for ENC documents, shared by the render property test and
 * the real-Puppet round trip. Production code never imports this file.
 */
import fc from 'fast-check';
import type { EncValue } from '@canopy/core';
import type { EncDocument } from './render.ts';

/** Strings that YAML 1.1 or 1.2 would read as something else when written plain. */
export const TRICKY_STRINGS = [
  '', ' ', ' lead', 'trail ', 'yes', 'no', 'on', 'off', 'y', 'n', 'Yes', 'NO', 'true', 'False', 'null', 'Null', '~',
  '1e3', '1e+21', '0x1F', '0o17', '017', '1_000', '1:20', '.5', '.inf', '-.inf', '.nan', '2001-12-14', '2001-12-14 21:59:43.10 -5',
  ':sym', 'key: value', '- item', '? q', '# comment', 'a #b', '!tag', '!!str', '*alias', '&anchor', '%YAML 1.1', '@at', '`tick`',
  '"double"', "'single'", 'back\\slash', 'line\nbreak', 'crlf\r\n', 'tab\tinside', '\u0000nul', '\u0007bell', '\u007fdel',
  '\u0085nel', '\u2028ls', '\u2029ps', '\ufeffbom', '\ufffe', '服务树', 'é', '😀', '---', '...', '{a: 1}', '[1, 2]', '|', '>',
  '<<', '=', 'x'.repeat(300),
];

const tricky = fc.constantFrom(...TRICKY_STRINGS);
const anyString = fc.oneof(tricky, fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 20 }));
const anyNumber = fc.oneof(
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1e21, 2 ** 60, 5e-324, 1.7976931348623157e308, 0.1, -1.5e-7),
);
/** Any parameter value: tricky and random strings, edge-case numbers, nested arrays and hashes. */
export const encValueArb: fc.Arbitrary<EncValue> = fc.letrec<{ value: EncValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    anyString,
    anyNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(anyString, tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).value;

const nameArb = fc.stringMatching(/^[a-z][a-z0-9_]{0,12}$/);
/** A whole ENC document with grammar-valid class, parameter and environment names. */
export const encDocumentArb: fc.Arbitrary<EncDocument> = fc.record({
  classes: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}(::[a-z][a-z0-9_]{0,8}){0,2}$/), fc.dictionary(nameArb, encValueArb, { maxKeys: 4, noNullPrototype: true }), { maxKeys: 4, noNullPrototype: true }),
  parameters: fc.dictionary(nameArb, encValueArb, { maxKeys: 6, noNullPrototype: true }),
  environment: fc.stringMatching(/^[a-z0-9_]{1,12}$/),
}, { noNullPrototype: true });
