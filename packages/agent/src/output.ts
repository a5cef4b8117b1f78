/**
 * A task's output as reports carry it: live chunks of each stream's head while it runs (up to half
 * the limit), then, with the terminal state, the whole output as kept — the head, a marker saying how
 * much was dropped, and the tail — read again from the files, so it survives an agent restart.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { OutputSource } from './exec/index.ts';

function readRange(path: string, from: number, length: number): Buffer {
  if (length <= 0) return Buffer.alloc(0);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, from);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Bytes from a UTF-8 buffer as text, cutting at a character boundary (returns the bytes used). */
function utf8Prefix(buf: Buffer): { text: string; used: number } {
  let end = buf.length;
  // Step back over a trailing incomplete sequence (at most 3 continuation bytes).
  for (let i = 1; i <= Math.min(3, buf.length); i++) {
    const b = buf[buf.length - i]!;
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    if (need > i) end = buf.length - i;
    break;
  }
  return { text: buf.subarray(0, end).toString('utf8'), used: end };
}

export interface LiveChunk {
  stdout?: string;
  stdoutAt?: number;
  stderr?: string;
  stderrAt?: number;
}

/** Tracks how much of a task's output has gone out live. */
export function outputTracker(src: OutputSource) {
  const head = Math.floor(src.limitBytes / 2);
  const sent = { stdout: 0, stderr: 0 };

  function take(stream: 'stdout' | 'stderr', path: string): { text: string; at: number } | undefined {
    const size = fileSize(path);
    const upTo = Math.min(size, head);
    if (upTo <= sent[stream]) return undefined;
    const { text, used } = utf8Prefix(readRange(path, sent[stream], upTo - sent[stream]));
    if (used === 0) return undefined;
    const at = sent[stream];
    sent[stream] += used;
    return { text, at };
  }

  return {
    /** New output since the last call, within the head. */
    live(): LiveChunk | undefined {
      const out = take('stdout', src.stdoutPath);
      const err = take('stderr', src.stderrPath);
      if (!out && !err) return undefined;
      return {
        ...(out ? { stdout: out.text, stdoutAt: out.at } : {}),
        ...(err ? { stderr: err.text, stderrAt: err.at } : {}),
      };
    },
    /** The whole output as kept: head, marker, tail; and how many bytes were dropped. */
    final(): { stdout: string; stderr: string; truncated: number } {
      let truncated = 0;
      const whole = (path: string): string => {
        const size = fileSize(path);
        if (size <= src.limitBytes) return readRange(path, 0, size).toString('utf8');
        const tail = src.limitBytes - head;
        const dropped = size - head - tail;
        truncated += dropped;
        return `${readRange(path, 0, head).toString('utf8')}\n… ${dropped} bytes not kept …\n${readRange(path, size - tail, tail).toString('utf8')}`;
      };
      return { stdout: whole(src.stdoutPath), stderr: whole(src.stderrPath), truncated };
    },
  };
}
