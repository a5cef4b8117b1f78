/**
 * The access-log module's state file: tail positions, the batch numbering and the batches not yet
 * acknowledged, written together (write, fsync, rename), so what was counted and where reading
 * resumes never disagree after a crash.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { AccessPush } from '@canopy/core';
import type { TailPosition } from './tail.ts';

export interface AccessLogState {
  /** This state dir's identity: the control center numbers batches per source. */
  source: string;
  /** The last batch number used. */
  seq: number;
  /** Log path → the files of it still being read. */
  tails: Record<string, TailPosition[]>;
  /** Counted but not acknowledged, oldest first. */
  pending: AccessPush[];
}

/** Load the state in `dir`, or a fresh one. */
export function loadState(dir: string): AccessLogState {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    const s = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as AccessLogState;
    if (typeof s.source === 'string' && Number.isInteger(s.seq) && Array.isArray(s.pending)) return s;
  } catch {
    // first start (the file is only ever replaced whole, never torn)
  }
  return { source: randomBytes(12).toString('hex'), seq: 0, tails: {}, pending: [] };
}

/** Replace the state file durably. */
export function saveState(dir: string, s: AccessLogState): void {
  const path = join(dir, 'state.json');
  const fd = openSync(`${path}.tmp`, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(s));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(`${path}.tmp`, path);
}
