import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyPatch, createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import { canonicalJson, diffFiles, diffStat } from './diff.ts';

const file = (content: string) => [{ path: 'x.conf', content }];

describe('config diffs', () => {
  test('a one-line change in a large file gives the hunk diff -u gives, at the right line', () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `    server 10.0.${i >> 8}.${i & 255}:80 weight=1;`);
    const a = `${lines.join('\n')}\n`;
    lines[2500] += ' down';
    const b = `${lines.join('\n')}\n`;
    const ours = diffFiles(file(a), file(b), 'v1', 'v2');
    assert.equal(ours, createTwoFilesPatch('a/x.conf', 'b/x.conf', a, b, 'v1', 'v2', { context: 3, headerOptions: FILE_HEADERS_ONLY }));
    assert.match(ours, /^@@ -2498,7 \+2498,7 @@$/m);
    assert.deepEqual(diffStat(ours), { added: 1, removed: 1 });
  });

  test('identical files diff to nothing; added and removed files diff against /dev/null', () => {
    assert.equal(diffFiles(file('a\n'), file('a\n'), 'v1', 'v2'), '');
    const d = diffFiles([], file('a\nb\n'), 'v0', 'v1');
    assert.match(d, /^--- \/dev\/null\tv0\n\+\+\+ b\/x\.conf\tv1\n@@ -0,0 \+1,2 @@\n\+a\n\+b\n$/);
    assert.match(diffFiles(file('a\n'), [], 'v1', 'v2'), /^--- a\/x\.conf\tv1\n\+\+\+ \/dev\/null\tv2\n@@ -1,1 \+0,0 @@\n-a\n$/);
  });

  test('applying the diff to the old file always gives the new one (property)', () => {
    const line = fc.constantFrom('a', 'b', 'c', '', 'server x;', '}');
    const text = fc.tuple(fc.array(line, { maxLength: 40 }), fc.boolean()).map(([ls, nl]) => ls.join('\n') + (nl && ls.length > 0 ? '\n' : ''));
    fc.assert(
      fc.property(text, text, (a, b) => {
        const patch = diffFiles(file(a), file(b), 'v1', 'v2');
        if (a === b) return assert.equal(patch, '');
        assert.equal(applyPatch(a, patch), b);
      }),
      { numRuns: 2000 },
    );
  });

  test('a settings snapshot hashes the same whatever the key order jsonb gives it back in', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } }), canonicalJson({ a: { c: null, d: [2, { e: 0, f: 1 }] }, b: 1 }));
  });
});
