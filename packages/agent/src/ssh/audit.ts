/**
 * The login audit on the machine: sshd's log (LogLevel VERBOSE: accepted and failed keys, unknown
 * accounts) read as it grows, and the keys command's calls (which say when the cache had expired),
 * turned into login events: who (the Canopy user whose key it was), which account, from where,
 * by key, certificate or break-glass key.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { LoginEvent } from '@canopy/core';

/** Whose a key is: fingerprint → Canopy user, and the break-glass keys' nodes. */
export interface KeyOwners {
  user(fingerprint: string): string | undefined;
  breakGlassNode(fingerprint: string): string | undefined;
}

// sshd's messages, with or without a syslog prefix (`… sshd[123]: `).
const ACCEPTED = /Accepted (publickey|password|keyboard-interactive\/pam) for (\S+) from (\S+) port \d+ ssh2(?:: (\S+) (SHA256:[A-Za-z0-9+/]+)(?: ID (\S+) \(serial \d+\))?)?/;
const FAILED = /Failed (publickey|password|none) for (?:invalid user )?(\S+) from (\S+) port \d+ ssh2(?:: (\S+) (SHA256:[A-Za-z0-9+/]+))?/;
const INVALID = /Invalid user (.{0,64}?) from (\S+) port \d+/;
const NOT_ALLOWED = /User (\S+) from (\S+) not allowed because (.{0,120})/;

/** Printable and short: what a client chose as a user name goes no further raw. */
const clean = (s: string, max = 64) => s.replace(/[^\x21-\x7e]/g, '?').slice(0, max);

/** The login event of one sshd log line, or undefined for lines that are not one. */
export function parseSshdLine(line: string, owners: KeyOwners, expired: (account: string, fp: string) => boolean, now = new Date()): LoginEvent | undefined {
  const base = { id: randomUUID().replaceAll('-', ''), at: now.toISOString() };
  let m = ACCEPTED.exec(line);
  if (m) {
    const [, how = '', account = '', from = '', type = '', fp = null, keyId] = m;
    const glass = fp ? owners.breakGlassNode(fp) : undefined;
    const cert = type.endsWith('-CERT');
    const method = how !== 'publickey' ? 'other' : glass ? 'break-glass' : cert ? 'cert' : 'key';
    // A certificate's key id is the Canopy user it was signed for.
    const user = cert && keyId ? clean(keyId) : ((fp && owners.user(fp)) ?? null);
    return { ...base, account: clean(account), from: clean(from), result: 'accepted', method, fingerprint: fp, user, breakGlassNode: glass ?? null, reason: '' };
  }
  m = FAILED.exec(line);
  if (m) {
    const [, how = '', account = '', from = '', type = '', fp = null] = m;
    if (how === 'none') return undefined;
    const reason = fp && expired(account, fp) ? 'cache expired: the control center has been unreachable too long' : 'key not allowed for this account';
    return { ...base, account: clean(account), from: clean(from), result: 'refused', method: type.endsWith('-CERT') ? 'cert' : how === 'publickey' ? 'key' : 'other', fingerprint: fp, user: (fp && owners.user(fp)) ?? null, breakGlassNode: null, reason };
  }
  m = INVALID.exec(line);
  if (m) return { ...base, account: clean(m[1] ?? ''), from: clean(m[2] ?? ''), result: 'refused', method: 'other', fingerprint: null, user: null, breakGlassNode: null, reason: 'no such account on this machine' };
  m = NOT_ALLOWED.exec(line);
  if (m) return { ...base, account: clean(m[1] ?? ''), from: clean(m[2] ?? ''), result: 'refused', method: 'other', fingerprint: null, user: null, breakGlassNode: null, reason: clean(m[3] ?? '', 120) };
  return undefined;
}

/** Follows a growing file from `from` (its end, or a saved offset); starts over when it shrinks (rotated). */
export function createTail(path: string, from: 'end' | number = 'end') {
  let offset = typeof from === 'number' ? from : -1;
  let rest = '';
  return {
    /** Where the next read starts (saved, so a restarted agent reads what sshd wrote meanwhile). */
    offset: () => offset,
    /** New complete lines since the last call. */
    read(): string[] {
      let size: number;
      try {
        size = statSync(path).size;
      } catch {
        return [];
      }
      if (offset < 0) offset = size;
      if (size < offset) offset = 0;
      if (size === offset) return [];
      const fd = openSync(path, 'r');
      try {
        const buf = Buffer.alloc(Math.min(size - offset, 4 * 1024 * 1024));
        const n = readSync(fd, buf, 0, buf.length, offset);
        offset += n;
        const text = rest + buf.subarray(0, n).toString('utf8');
        const lines = text.split('\n');
        rest = lines.pop() ?? '';
        return lines;
      } finally {
        closeSync(fd);
      }
    },
  };
}
