/**
 * Applying an nginx version. The include dir the agent owns is a symbolic link to one directory
 * per version (kept beside it in `.<name>.canopy/`): the new version's files are written and
 * flushed in a fresh directory, then the link is swapped by one rename, so nginx (or anyone) reads
 * either the whole old set or the whole new one, and files of the old version are simply not in
 * the new directory. `nginx -t` then checks the machine's real main config; on failure the link
 * goes back to the previous directory. A passing version is reloaded with `nginx -s reload`, and
 * with a pid file the reload counts only once the master has started new workers.
 */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConfigSpec } from '@canopy/core';
import { TaskError, type NginxTarget } from './controller.ts';
import { fsyncDir, tail, writeSynced } from './config.ts';

/** How long a reloaded master may take to start its new workers. */
const RELOAD_WAIT_MS = 10_000;

/** Run `bin args…`; resolves with the exit code and the merged output, never rejects. */
export function runProgram(bin: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', (err) => done({ code: null, output: `${output}cannot run ${bin}: ${err.message}` }));
    child.once('close', (code) => done({ code, output }));
  });
}

/** Pids of the processes whose parent is `pid` (scanning /proc: no CONFIG_PROC_CHILDREN needed). */
export function childrenOf(pid: number): Set<number> {
  const out = new Set<number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.add(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function masterPid(pidFile: string): number {
  try {
    const pid = Number.parseInt(readFileSync(pidFile, 'utf8'), 10);
    if (Number.isInteger(pid) && pid > 0 && existsSync(`/proc/${pid}`)) return pid;
  } catch {
    // no pid file
  }
  throw new TaskError(`nginx is not running: no live pid in ${pidFile}`);
}

/** Point `link` at `target` (relative to the link's folder) with one rename. */
function swapLink(link: string, target: string): void {
  const tmp = join(dirname(link), `.${basename(link)}.tmp-${process.pid}`);
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, link);
  fsyncDir(dirname(link));
}

/** Where the link points now, relative to its folder; a real directory there is adopted first. */
function currentTarget(link: string, store: string): string | undefined {
  const st = lstatSync(link, { throwIfNoEntry: false });
  if (!st) return undefined;
  if (st.isSymbolicLink()) return readlinkSync(link);
  if (!st.isDirectory()) throw new TaskError(`${link} is neither a directory nor a link the agent made`);
  // The operator's own include dir: moved into the store once, then managed like any version.
  const adopted = join(store, `adopted-${Date.now()}`);
  renameSync(link, adopted);
  const rel = join(basename(store), basename(adopted));
  swapLink(link, rel);
  return rel;
}

/** Write, swap in, check and reload one version; returns nginx's output. */
export async function applyNginx(t: NginxTarget, spec: ConfigSpec, taskDir: string): Promise<string> {
  const link = resolve(t.includeDir);
  const parent = dirname(link);
  const store = join(parent, `.${basename(link)}.canopy`);
  mkdirSync(store, { recursive: true, mode: 0o755 });
  const name = `v${spec.version}-${basename(taskDir).slice(0, 8)}`;
  const dir = join(store, name);
  const rel = join(basename(store), name);

  // The target before this task swapped anything, kept across an agent restart mid-apply.
  const savedPrev = join(taskDir, 'nginx-previous');
  let prev = existsSync(savedPrev) ? readFileSync(savedPrev, 'utf8') : currentTarget(link, store);
  if (prev === rel) prev = undefined;
  if (!existsSync(savedPrev)) writeSynced(savedPrev, prev ?? '', 0o600);
  if (prev === '') prev = undefined;

  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { mode: 0o755 });
  for (const f of spec.files) writeSynced(join(dir, f.name), f.content, 0o644);
  fsyncDir(dir);
  swapLink(link, rel);

  const putBack = () => {
    if (prev !== undefined) swapLink(link, prev);
    else {
      const empty = join(store, 'empty');
      mkdirSync(empty, { recursive: true, mode: 0o755 });
      swapLink(link, join(basename(store), 'empty'));
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const test = await runProgram(t.bin, ['-t', '-c', t.conf]);
  if (test.code !== 0) {
    putBack();
    throw new TaskError(`nginx -t refused v${spec.version}; the previous files were put back:\n${tail(test.output)}`);
  }

  const master = t.pidFile ? masterPid(t.pidFile) : undefined;
  const before = master === undefined ? new Set<number>() : childrenOf(master);
  const reload = await runProgram(t.bin, ['-s', 'reload', '-c', t.conf]);
  if (reload.code !== 0) throw new TaskError(`nginx -t passed but the reload failed (the files stay in place):\n${tail(reload.output)}`);
  if (master !== undefined) {
    const deadline = Date.now() + RELOAD_WAIT_MS;
    while (![...childrenOf(master)].some((pid) => !before.has(pid))) {
      if (Date.now() > deadline) {
        putBack();
        throw new TaskError(`nginx passed -t but started no new workers within ${RELOAD_WAIT_MS / 1000} s of the reload (see its error log); the previous files were put back`);
      }
      await sleep(20);
    }
  }

  // Keep the version before this one (a quick manual way back); drop older ones.
  for (const old of readdirSync(store)) {
    const keep = old === name || (prev !== undefined && join(basename(store), old) === prev) || old === 'empty';
    if (!keep) rmSync(join(store, old), { recursive: true, force: true });
  }
  rmSync(savedPrev, { force: true });
  return `${test.output}${reload.output}`;
}
