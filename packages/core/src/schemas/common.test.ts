import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Labels, safeText, unsafeTextProblem } from './common.ts';

const utf8 = (s: string): string => new TextDecoder().decode(new TextEncoder().encode(s));
const issues = (r: { success: boolean; error?: { issues: { message: string }[] } }): string[] => r.error?.issues.map((i) => i.message) ?? [];

/** Any UTF-16 code unit, weighted towards ASCII (controls) and surrogates so both turn up often. */
const anyUnit = fc
  .oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0xd800, max: 0xdfff }), fc.integer({ min: 0, max: 0xffff }))
  .map((c) => String.fromCharCode(c));
const anyText = fc.string({ unit: anyUnit, maxLength: 40 });

describe('unsafeTextProblem', () => {
  test('accepts ordinary text in any script, astral characters (surrogate pairs) included', () => {
    for (const s of ['', 'Payments API', 'équipe paiement', '支付服务', 'под нагрузкой', '🌳 canopy 👩‍💻', 'a\u007fb', '\\u0000 literal']) {
      assert.equal(unsafeTextProblem(s), undefined, JSON.stringify(s));
    }
  });

  test('refuses NUL, naming it and where it is', () => {
    assert.match(unsafeTextProblem('ab\u0000c')!, /NUL character \(U\+0000\) at position 3/);
    assert.match(unsafeTextProblem('\u0000', true)!, /NUL/);
  });

  test('refuses lone surrogates, high or low, and a pair written backwards', () => {
    for (const s of ['\ud800', 'a\udc00', 'x\ud83cy', '\udf33\ud83c', 'ok 🌳 \ud800']) {
      assert.match(unsafeTextProblem(s, true)!, /unpaired UTF-16 surrogate/, JSON.stringify(s));
    }
    assert.match(unsafeTextProblem('🌳\udc00')!, /at position 3/);
  });

  test('one-line text refuses every C0 control, tab and newline included', () => {
    for (const c of ['\t', '\n', '\r', '\u001b[31m', '\u0007', '\u0008', '\u001f']) {
      assert.match(unsafeTextProblem(`a${c}b`)!, /control characters.*one line/, JSON.stringify(c));
    }
  });

  test('multi-line text keeps tab, LF and CRLF but refuses a lone CR and terminal escapes', () => {
    assert.equal(unsafeTextProblem('line one\n\tindented\r\nline three\n', true), undefined);
    assert.match(unsafeTextProblem('shown\rhidden', true)!, /U\+000D at position 6/);
    assert.match(unsafeTextProblem('ends with CR\r', true)!, /U\+000D/);
    assert.match(unsafeTextProblem('\u001b[2J', true)!, /other than tab and newline: U\+001B/);
    assert.match(unsafeTextProblem('form\ffeed', true)!, /U\+000C/);
  });

  test('whatever it accepts survives UTF-8 unchanged and holds no control but tab, LF and CRLF', () => {
    fc.assert(
      fc.property(anyText, fc.boolean(), (s, multiline) => {
        if (unsafeTextProblem(s, multiline) !== undefined) return;
        assert.equal(utf8(s), s);
        assert.ok(!s.includes('\u0000'));
        const controls = [...s.replaceAll('\r\n', '\n')].filter((ch) => ch < ' ');
        assert.ok(controls.every((ch) => multiline && (ch === '\t' || ch === '\n')), JSON.stringify(s));
      }),
      { numRuns: 2000 },
    );
  });

  test('refuses exactly the strings that change through UTF-8 or carry a control character', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        const bad = utf8(s) !== s || /[\u0000-\u001f]/.test(s);
        assert.equal(unsafeTextProblem(s) !== undefined, bad, JSON.stringify(s));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('safeText', () => {
  test('bounds length and reports the unsafe character as a zod issue', () => {
    const name = safeText({ min: 1, max: 5 });
    assert.equal(name.parse('hello'), 'hello');
    assert.ok(!name.safeParse('').success);
    assert.ok(!name.safeParse('toolong').success);
    assert.deepEqual(issues(name.safeParse('a\u0000')), ['may not contain the NUL character (U+0000) at position 2']);
  });

  test('still composes with stricter string rules and defaults', () => {
    const tag = safeText({ max: 10 }).regex(/^[a-z]*$/, 'lower-case only').default('x');
    assert.equal(tag.parse(undefined), 'x');
    assert.ok(!tag.safeParse('ABC').success);
    assert.equal(issues(tag.safeParse('a\u001bb')).length, 2);
  });

  test('label values are one line of safe text; keys keep their stricter grammar', () => {
    assert.deepEqual(Labels.parse({ team: 'payments 💳', 'canopy.io/tier': 'gold' }), { team: 'payments 💳', 'canopy.io/tier': 'gold' });
    for (const v of ['a\u0000b', '\ud800', 'two\nlines', 'tab\there']) assert.ok(!Labels.safeParse({ team: v }).success, JSON.stringify(v));
    assert.ok(!Labels.safeParse({ Team: 'x' }).success);
  });
});
