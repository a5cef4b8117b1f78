/**
 * The machine side effects of SSH access: local accounts (useradd with the document's uid, the
 * password field `*`, so no password ever opens them), files written atomically (write, fsync,
 * rename), the sudoers drop-in checked by `visudo -c` before it replaces the old one, and the
 * check sshd makes of its AuthorizedKeysCommand path (root-owned, not group- or world-writable).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, fsyncSync, openSync, renameSync, statSync, writeSync, chmodSync, unlinkSync, existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ACCOUNT_NAME_RE } from '@canopy/core';

/** Write `text` to `path` by rename, so a reader sees the old file or the new one, never half. */
export function writeAtomic(path: string, text: string, mode: number): boolean {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) {
    chmodSync(path, mode);
    return false;
  }
  const tmp = `${path}.canopy-tmp`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, mode);
  renameSync(tmp, path);
  return true;
}

/** Why sshd would refuse a command at `path` (owner root, no group/other write up to /), or undefined. */
export function unsafeForSshd(path: string): string | undefined {
  for (let p = path; ; p = dirname(p)) {
    const st = statSync(p);
    if (st.uid !== 0) return `${p} is not owned by root`;
    if ((st.mode & 0o022) !== 0) return `${p} is writable by group or others`;
    if (p === '/') return undefined;
  }
}

/** The local account `name`: its uid, or undefined when there is none. */
export function accountUid(name: string): number | undefined {
  const r = spawnSync('getent', ['passwd', name], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const uid = Number(r.stdout.split(':')[2]);
  return Number.isInteger(uid) ? uid : undefined;
}

/** Local accounts from /etc/passwd, name → uid: one read per document instead of a getent per account. */
export function localAccounts(passwd = '/etc/passwd'): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of readFileSync(passwd, 'utf8').split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid !== undefined && /^\d+$/.test(uid)) out.set(name, Number(uid));
  }
  return out;
}

/** Create account `name` with `uid` (its own group, a home, bash, no usable password). */
export function createAccount(name: string, uid: number, comment: string): void {
  if (!ACCOUNT_NAME_RE.test(name) || !Number.isInteger(uid)) throw new Error(`refusing account ${JSON.stringify(name)} uid ${uid}`);
  const safeComment = comment.replace(/[^A-Za-z0-9 ._-]/g, '').slice(0, 64);
  execFileSync('useradd', ['--uid', String(uid), '--user-group', '--create-home', '--shell', '/bin/bash', '--password', '*', '--comment', safeComment, '--', name], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A system account to run the keys command as (no home, no shell), made when missing. */
export function ensureCommandUser(name: string): void {
  if (accountUid(name) !== undefined) return;
  if (!ACCOUNT_NAME_RE.test(name)) throw new Error(`refusing command user ${JSON.stringify(name)}`);
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', '--', name], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Replace the sudoers drop-in with `text` once `visudo -c` accepts it; throws (the old file stays)
 * when it does not. The candidate's name has a dot, so sudo never reads it from sudoers.d.
 */
export function writeSudoers(path: string, text: string, visudo = 'visudo'): boolean {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return false;
  const tmp = `${path}.canopy-new`;
  const fd = openSync(tmp, 'w', 0o440);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const check = spawnSync(visudo, ['-c', '-q', '-f', tmp], { encoding: 'utf8' });
  if (check.status !== 0) {
    unlinkSync(tmp);
    throw new Error(`visudo refused the sudoers drop-in: ${(check.stderr || check.stdout || String(check.error)).trim()}`);
  }
  chmodSync(tmp, 0o440);
  renameSync(tmp, path);
  return true;
}

/** Rebuild the KRL from `spec` (one `serial: N` a line) with `ssh-keygen -k`, when it changed. */
export function writeKrl(dir: string, spec: string): void {
  const specPath = `${dir}/revoked.spec`;
  const krl = `${dir}/revoked.krl`;
  if (existsSync(krl) && existsSync(specPath) && readFileSync(specPath, 'utf8') === spec) return;
  writeAtomic(specPath, spec, 0o644);
  const tmp = `${krl}.canopy-new`;
  const args = spec === '' ? ['-k', '-f', tmp] : ['-k', '-f', tmp, '-s', `${dir}/user-ca.pub`, specPath];
  const r = spawnSync('ssh-keygen', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen -k refused the revocation list: ${(r.stderr || String(r.error)).trim()}`);
  chmodSync(tmp, 0o644);
  renameSync(tmp, krl);
}

/** SIGHUP the sshd whose pid is in `pidFile`; says why not when it cannot. */
export function reloadSshd(pidFile: string | undefined): string | undefined {
  if (!pidFile) return 'no --ssh-sshd-pid: reload sshd to apply them';
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) return `no pid in ${pidFile}`;
    process.kill(pid, 'SIGHUP');
    return undefined;
  } catch (err) {
    return `sshd not reloaded: ${err instanceof Error ? err.message : String(err)}`;
  }
}
