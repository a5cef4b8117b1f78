import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTail } from './tail.ts';

const dir = mkdtempSync(join(tmpdir(), 'tail-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function collect(t: ReturnType<typeof createTail>): string[] {
  const out: string[] = [];
  t.poll((l) => out.push(l));
  return out;
}

describe('tailing a log file', () => {
  test('a file already full when first seen starts at its end; one that appears later from its start', () => {
    const full = join(dir, 'full.log');
    writeFileSync(full, 'old 1\nold 2\n');
    const t = createTail(full);
    assert.deepEqual(collect(t), []);
    appendFileSync(full, 'new 1\n');
    assert.deepEqual(collect(t), ['new 1']);
    const later = join(dir, 'later.log');
    const u = createTail(later);
    assert.deepEqual(collect(u), []);
    writeFileSync(later, 'a\nb\n');
    assert.deepEqual(collect(u), ['a', 'b']);
    t.close();
    u.close();
  });

  test('a half-written line waits for its newline', () => {
    const p = join(dir, 'partial.log');
    const t = createTail(p);
    collect(t);
    writeFileSync(p, 'one\ntw');
    assert.deepEqual(collect(t), ['one']);
    appendFileSync(p, 'o\n');
    assert.deepEqual(collect(t), ['two']);
    t.close();
  });

  test('rename rotation: lines still written to the old file are read, then the new one', () => {
    const p = join(dir, 'rot.log');
    const t = createTail(p);
    collect(t);
    writeFileSync(p, 'a\n');
    assert.deepEqual(collect(t), ['a']);
    renameSync(p, `${p}.1`);
    appendFileSync(`${p}.1`, 'b\n'); // nginx has not reopened yet
    assert.deepEqual(collect(t), ['b']);
    appendFileSync(`${p}.1`, 'c\n');
    writeFileSync(p, 'd\n'); // reopened: new lines go to the new file
    assert.deepEqual(collect(t).sort(), ['c', 'd']);
    appendFileSync(p, 'e\n');
    assert.deepEqual(collect(t), ['e']);
    assert.equal(t.positions().length, 1, 'the old file was let go');
    t.close();
  });

  test('copytruncate starts again at the start', () => {
    const p = join(dir, 'trunc.log');
    const t = createTail(p);
    collect(t);
    writeFileSync(p, 'a\nb\n');
    assert.deepEqual(collect(t), ['a', 'b']);
    truncateSync(p, 0);
    appendFileSync(p, 'c\n');
    assert.deepEqual(collect(t), ['c']);
    t.close();
  });

  test('resuming from saved positions reads every line once, across a rotation while stopped', () => {
    const p = join(dir, 'resume.log');
    const t = createTail(p);
    collect(t);
    writeFileSync(p, '1\n2\n');
    assert.deepEqual(collect(t), ['1', '2']);
    appendFileSync(p, '3\n');
    const saved = t.positions();
    t.close();
    // While the agent is down: a line more, then rotation and lines in the new file.
    appendFileSync(p, '4\n');
    renameSync(p, `${p}.1`);
    writeFileSync(p, '5\n');
    const again = createTail(p, saved);
    assert.deepEqual(collect(again), ['3', '4', '5']);
    assert.deepEqual(collect(again), []);
    again.close();
  });

  test('a long stream is read completely across chunk boundaries', () => {
    const p = join(dir, 'long.log');
    const t = createTail(p);
    collect(t);
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 97)}`);
    writeFileSync(p, `${lines.join('\n')}\n`);
    assert.deepEqual(collect(t), lines);
    t.close();
  });
});
