/**
 * A supervised app's output: stdout and stderr go straight to files in the state dir (opened by the
 * agent, appended by the app), so the app keeps writing while the agent is down or restarting.
 * Rotation is copy-then-truncate, as logrotate's `copytruncate`: the app's O_APPEND descriptor
 * carries on at the new end, `.1` … `.keep` hold the older content, gzip-compressed when asked.
 */
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import { createGzip } from 'node:zlib';
import type { LogPolicy } from '@canopy/core';

export type LogStream = 'stdout' | 'stderr';
export const LOG_STREAMS: readonly LogStream[] = ['stdout', 'stderr'];

/** The log folder of the process of node `nodeId` (created). */
export function logDir(stateDir: string, nodeId: number): string {
  const d = join(stateDir, 'processes', String(nodeId));
  mkdirSync(d, { recursive: true, mode: 0o700 });
  return d;
}

/** The live file of one stream. */
export const logFile = (dir: string, stream: LogStream) => join(dir, `${stream}.log`);

function size(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function readSince(dir: string): Record<string, number> {
  try {
    return JSON.parse(readFileSync(join(dir, 'rotated.json'), 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

/** Rotate `stream` when it is larger than the policy allows or older than its age; true when it did. */
export async function rotateIfDue(dir: string, stream: LogStream, policy: LogPolicy, now = Date.now()): Promise<boolean> {
  const file = logFile(dir, stream);
  const since = readSince(dir);
  const started = since[stream] ?? now;
  if (since[stream] === undefined) writeSince(dir, { ...since, [stream]: now });
  const bytes = size(file);
  if (bytes === 0) return false;
  if (bytes < policy.maxBytes && now - started < policy.maxAgeHours * 3_600_000) return false;
  await rotate(dir, stream, policy);
  writeSince(dir, { ...readSince(dir), [stream]: now });
  return true;
}

function writeSince(dir: string, since: Record<string, number>): void {
  writeFileSync(join(dir, 'rotated.json.tmp'), JSON.stringify(since));
  renameSync(join(dir, 'rotated.json.tmp'), join(dir, 'rotated.json'));
}

/** Rotated file number `n` of `stream` as it is on disk (compressed or not), if any. */
export function rotatedFile(dir: string, stream: LogStream, n: number): string | undefined {
  const base = `${logFile(dir, stream)}.${n}`;
  if (existsSync(`${base}.gz`)) return `${base}.gz`;
  return existsSync(base) ? base : undefined;
}

/** Shift `.1…` up (dropping what passes `keep`), copy the live file to `.1`, truncate it, compress `.1`. */
export async function rotate(dir: string, stream: LogStream, policy: LogPolicy): Promise<void> {
  const file = logFile(dir, stream);
  for (let n = policy.keep; n >= 1; n--) {
    const f = rotatedFile(dir, stream, n);
    if (!f) continue;
    if (n === policy.keep) rmSync(f, { force: true });
    else renameSync(f, `${file}.${n + 1}${f.endsWith('.gz') ? '.gz' : ''}`);
  }
  const first = `${file}.1`;
  copyFileSync(file, first);
  truncateSync(file, 0);
  if (!policy.compress) return;
  await pipeline(createReadStream(first), createGzip(), createWriteStream(`${first}.gz.tmp`, { mode: 0o600 }));
  renameSync(`${first}.gz.tmp`, `${first}.gz`);
  rmSync(first, { force: true });
}

/** The last `lines` lines of the live file (at most 4 MiB read). */
export function tail(dir: string, stream: LogStream, lines: number): { text: string; offset: number } {
  const file = logFile(dir, stream);
  const end = size(file);
  if (lines === 0 || end === 0) return { text: '', offset: end };
  const from = Math.max(0, end - 4 * 1024 * 1024);
  const buf = readRange(file, from, end - from);
  const text = buf.toString('utf8');
  const parts = text.split('\n');
  if (parts.at(-1) === '') parts.pop();
  return { text: parts.slice(-lines).map((l) => `${l}\n`).join(''), offset: end };
}

/** Bytes of the live file from `offset` (to at most 1 MiB); a truncated file (rotated) starts again at 0. */
export function readFrom(dir: string, stream: LogStream, offset: number): { text: string; offset: number } {
  const file = logFile(dir, stream);
  const end = size(file);
  const from = end < offset ? 0 : offset;
  if (end === from) return { text: '', offset: from };
  const buf = readRange(file, from, Math.min(end - from, 1024 * 1024));
  // Hand out whole lines only while more may come, so a follower never sees half a line twice.
  const cut = buf.lastIndexOf(0x0a) + 1;
  const used = cut > 0 ? buf.subarray(0, cut) : buf.length >= 64 * 1024 ? buf : Buffer.alloc(0);
  return { text: used.toString('utf8'), offset: from + used.length };
}

function readRange(path: string, from: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, from);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}
