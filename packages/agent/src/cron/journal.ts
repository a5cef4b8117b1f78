/**
 * The runs' outbox: every change of a run (started, ended, skipped) is written to disk (write,
 * fsync, rename) before it is pushed, and stays there until the control center acknowledged its
 * final state — so runs made while the control center is away are sent when it is back, and a
 * resent run carries the same id (the control center keeps one row per id: never doubled).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { CronRunReport, CronSpec } from '@canopy/core';
import type { RunHandle } from './runner.ts';

/** A run as kept: its latest report, its order of change, and how to find its process again. */
export interface JournalRecord {
  seq: number;
  report: CronRunReport;
  handle?: RunHandle | undefined;
  /** The entry's spec when the run started (its timeout still applies to an adopted run). */
  spec?: CronSpec | undefined;
}

const FINAL = new Set(['succeeded', 'failed', 'timed-out', 'skipped', 'lost']);

/** Records kept at most; past it the oldest finished runs not yet reported are dropped (a long outage must not fill the disk). */
export const JOURNAL_MAX = 20_000;

/** Open (or create) the journal in `dir`; `onDrop` hears how many runs a full journal dropped. */
export function openJournal(dir: string, opts: { max?: number; onDrop?: (count: number) => void } = {}) {
  const max = opts.max ?? JOURNAL_MAX;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const records = new Map<string, JournalRecord>();
  let seq = 0;
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json')) continue;
    try {
      const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as JournalRecord;
      records.set(r.report.id, r);
      seq = Math.max(seq, r.seq);
    } catch {
      rmSync(join(dir, f), { force: true }); // written by rename: a torn file is a leftover .tmp
    }
  }

  function write(r: JournalRecord): void {
    const path = join(dir, `${r.report.id}.json`);
    const fd = openSync(`${path}.tmp`, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(r));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(`${path}.tmp`, path);
  }

  function trim(): void {
    const finished = [...records.values()].filter((r) => FINAL.has(r.report.state)).sort((a, b) => a.seq - b.seq);
    const drop = finished.slice(0, records.size - max);
    for (const r of drop) {
      records.delete(r.report.id);
      rmSync(join(dir, `${r.report.id}.json`), { force: true });
    }
    if (drop.length > 0) opts.onDrop?.(drop.length);
  }

  return {
    /** Record a run's new state (durably); returns its record. */
    put(report: CronRunReport, started?: { handle?: RunHandle | undefined; spec: CronSpec }): JournalRecord {
      const was = records.get(report.id);
      const r: JournalRecord = report.state === 'running' ? { seq: ++seq, report, handle: started?.handle ?? was?.handle, spec: started?.spec ?? was?.spec } : { seq: ++seq, report };
      write(r);
      records.set(report.id, r);
      if (records.size > max) trim();
      return r;
    },
    get: (id: string) => records.get(id),
    /** Runs an earlier agent process left running. */
    running: () => [...records.values()].filter((r) => r.report.state === 'running'),
    /** Records not yet acknowledged in their current state, oldest change first. */
    unsent(acked: ReadonlyMap<string, number>): JournalRecord[] {
      return [...records.values()].filter((r) => acked.get(r.report.id) !== r.seq).sort((a, b) => a.seq - b.seq);
    },
    /** The control center took `r`: a final state is forgotten (unless it changed since). */
    acknowledged(r: JournalRecord): void {
      const now = records.get(r.report.id);
      if (!now || now.seq !== r.seq || !FINAL.has(r.report.state)) return;
      records.delete(r.report.id);
      rmSync(join(dir, `${r.report.id}.json`), { force: true });
    },
    /** Forget a run the control center will never take. */
    drop(id: string): void {
      records.delete(id);
      rmSync(join(dir, `${id}.json`), { force: true });
    },
    size: () => records.size,
  };
}

export type Journal = ReturnType<typeof openJournal>;
