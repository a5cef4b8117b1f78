import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CronSpec, type CronRunReport } from '@canopy/core';
import { openJournal } from './journal.ts';

const report = (state: CronRunReport['state'], id = randomUUID()): CronRunReport => ({
  id, key: '1/x', name: 'x', node: 'corp', state, scheduledAt: '2026-12-03T10:00:00.000Z', startedAt: null, endedAt: null, exitCode: null, reason: null, stdout: '', stderr: '', truncated: 0,
});

test('the journal keeps a run until its final state is acknowledged, across a reopen, in order of change', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cron-journal-'));
  try {
    const spec = CronSpec.parse({ schedule: '* * * * *', argv: ['true'] });
    const j = openJournal(dir);
    const a = j.put(report('running'), { handle: { pid: 1, pidStart: '1', startedAt: '2026-12-03T10:00:00.000Z' }, spec });
    const b = j.put(report('skipped'));
    const acked = new Map<string, number>();
    assert.deepEqual(j.unsent(acked).map((r) => r.report.id), [a.report.id, b.report.id]);
    // A running state acknowledged stays (its end is still to come); a final one goes.
    acked.set(a.report.id, a.seq);
    j.acknowledged(a);
    j.acknowledged(b);
    assert.deepEqual(j.unsent(acked), []);
    assert.equal(j.size(), 1);

    writeFileSync(join(dir, 'torn.json'), '{"seq": 9, "rep'); // a leftover of a crash is dropped
    const again = openJournal(dir);
    assert.deepEqual(again.running().map((r) => [r.report.id, r.handle?.pid, r.spec?.schedule]), [[a.report.id, 1, '* * * * *']]);
    const end = again.put({ ...a.report, state: 'succeeded', exitCode: 0 });
    assert.ok(end.seq > a.seq);
    assert.equal(end.handle, undefined, 'a final record carries no process');
    again.acknowledged(a); // an older state's acknowledgement does not drop the newer one
    assert.equal(again.size(), 1);
    again.acknowledged(end);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a full journal drops the oldest finished runs, never one still running', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cron-journal-'));
  try {
    const dropped: number[] = [];
    const j = openJournal(dir, { max: 3, onDrop: (n) => dropped.push(n) });
    const live = j.put(report('running'));
    const done = [1, 2, 3].map(() => j.put(report('succeeded')));
    assert.deepEqual(dropped, [1]);
    assert.deepEqual(j.unsent(new Map()).map((r) => r.report.id), [live.report.id, done[1]!.report.id, done[2]!.report.id]);
    assert.equal(readdirSync(dir).length, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
