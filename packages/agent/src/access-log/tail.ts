/**
 * Rotation-safe tailing of one log file by position. The position is the inode and the byte just
 * after the last whole line taken, so the owner can persist it with what it counted: a restart
 * resumes there and neither loses nor re-reads a line.
 *
 * - rename rotation (logrotate's default): nginx keeps writing to the renamed file until it
 *   reopens, so the old file is read on until the new one has data and the old one was drained
 *   twice after that; a restart that finds a new inode at the path looks for the old one among
 *   the files next to it (access.log.1) and finishes it first;
 * - copytruncate: a file shorter than the position was truncated; reading starts again at 0;
 * - a file first seen already full starts at its end (history is not news), one that appears
 *   later is read from its start.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Where reading resumes. */
export interface TailPosition {
  ino: number;
  offset: number;
}

interface Open {
  fd: number;
  ino: number;
  offset: number;
  /** Old files only: ticks left before closing, once the new file has data. */
  closeIn?: number;
}

const CHUNK = 1 << 16;
const MAX_LINE = 1 << 20;

function statIno(path: string): { ino: number; size: number } | undefined {
  try {
    const s = statSync(path);
    return { ino: s.ino, size: s.size };
  } catch {
    return undefined;
  }
}

function openAt(path: string, ino: number, offset: number): Open | undefined {
  try {
    const fd = openSync(path, 'r');
    const s = fstatSync(fd);
    if (s.ino !== ino) {
      closeSync(fd);
      return undefined;
    }
    return { fd, ino, offset: s.size < offset ? 0 : offset };
  } catch {
    return undefined;
  }
}

/** Tail `path`, resuming at the positions `saved` (from `positions()`) when given. */
export function createTail(path: string, saved?: readonly TailPosition[]) {
  let cur: Open | undefined;
  const old: Open[] = [];
  let firstLook = saved === undefined;
  const buf = Buffer.allocUnsafe(CHUNK);

  for (const pos of saved ?? []) {
    if (statIno(path)?.ino === pos.ino) {
      cur = openAt(path, pos.ino, pos.offset);
      continue;
    }
    // Rotated while we were away: finish the old file if it is still next to the new one.
    let names: string[] = [];
    try {
      names = readdirSync(dirname(path)).filter((n) => n.startsWith(basename(path)) && n !== basename(path));
    } catch {
      // the directory is gone; nothing to finish
    }
    for (const n of names) {
      const file = join(dirname(path), n);
      if (statIno(file)?.ino !== pos.ino) continue;
      const o = openAt(file, pos.ino, pos.offset);
      if (o) old.push({ ...o, closeIn: 2 });
      break;
    }
  }

  /** Read whole lines from `o`, about `budget` bytes at most; a partial last line waits for its newline. */
  function drain(o: Open, onLine: (line: string) => void, budget: number): void {
    let pending: Buffer | undefined;
    let taken = 0;
    for (;;) {
      const n = readSync(o.fd, buf, 0, CHUNK, o.offset + (pending?.length ?? 0));
      if (n <= 0) break;
      const data = pending ? Buffer.concat([pending, buf.subarray(0, n)]) : buf.subarray(0, n);
      let start = 0;
      for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, start)) {
        if (i > start) onLine(data.toString('utf8', start, i));
        start = i + 1;
      }
      o.offset += start;
      taken += start;
      pending = start < data.length ? Buffer.from(data.subarray(start)) : undefined;
      if (pending && pending.length > MAX_LINE) {
        // Not a log line nginx writes; skip it rather than stall behind it.
        o.offset += pending.length;
        pending = undefined;
      }
      if (n < CHUNK || taken >= budget) break;
    }
  }

  return {
    path,
    /** Feed every whole line written since the last call to `onLine`; `budget` caps the bytes per file. */
    poll(onLine: (line: string) => void, budget = 512 << 20): void {
      const st = statIno(path);
      if (cur && st?.ino !== cur.ino && st) {
        old.push({ ...cur, closeIn: 2 });
        cur = undefined;
      }
      if (!cur && st) cur = openAt(path, st.ino, firstLook ? st.size : 0);
      firstLook = false;
      if (cur && fstatSync(cur.fd).size < cur.offset) cur.offset = 0;
      const newHasData = cur !== undefined && fstatSync(cur.fd).size > 0;
      for (const o of [...old]) {
        drain(o, onLine, budget);
        if (newHasData) o.closeIn = (o.closeIn ?? 2) - 1;
        if ((o.closeIn ?? 0) <= 0) {
          closeSync(o.fd);
          old.splice(old.indexOf(o), 1);
        }
      }
      if (cur) drain(cur, onLine, budget);
    },
    /** The positions to persist: every file still being read. */
    positions(): TailPosition[] {
      return [...old, ...(cur ? [cur] : [])].map((o) => ({ ino: o.ino, offset: o.offset }));
    },
    close(): void {
      for (const o of old) closeSync(o.fd);
      old.length = 0;
      if (cur) closeSync(cur.fd);
      cur = undefined;
    },
  };
}

export type Tail = ReturnType<typeof createTail>;
