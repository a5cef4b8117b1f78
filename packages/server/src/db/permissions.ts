/**
 * The embedded database's files are the whole of Canopy's state (password hashes, token hashes,
 * pg_hba.conf), so only the server's own user may read them: the data dir and every directory in it
 * 0700, every file 0600, whatever the umask. PGlite unpacks its initial cluster with mode 0666 set
 * explicitly (a umask does not narrow that) and creates later files through Node with the process
 * umask; so the dir is opened under umask 0077 and walked after opening, and a data dir left looser
 * by an older version is tightened at start, saying so.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/** What a walk changed: how many entries had group or other bits. */
export interface Tightened {
  dirs: number;
  files: number;
}

/** Set `dir` and everything under it to 0700 (directories) and 0600 (files) where looser; symlinks are left alone. */
export function tightenDataDir(dir: string): Tightened {
  const out: Tightened = { dirs: 0, files: 0 };
  const walk = (path: string) => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    const want = st.isDirectory() ? DIR_MODE : FILE_MODE;
    // Only group/other bits count as looser: an owner-only mode that differs (0400) is the owner's choice.
    if ((st.mode & 0o077) !== 0) {
      chmodSync(path, (st.mode & 0o700) | want);
      if (st.isDirectory()) out.dirs++;
      else out.files++;
    }
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return out;
}

/**
 * Open a PGlite data dir privately: create it 0700, tighten what is there (logging when an existing
 * dir was looser), run `open` under umask 0077, then tighten what opening unpacked.
 */
export async function openPrivately<T>(dir: string, open: () => Promise<T>, log: (line: string) => void = console.warn): Promise<T> {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  const found = tightenDataDir(dir);
  if (found.dirs + found.files > 0) {
    log(`data dir ${dir}: tightened ${found.dirs} director${found.dirs === 1 ? 'y' : 'ies'} to 0700 and ${found.files} file(s) to 0600 (they were readable or writable by others)`);
  }
  // Worker threads may not change the umask; there the walk below still tightens what was made.
  const previous = setUmask(0o077);
  try {
    return await open();
  } finally {
    if (previous !== undefined) process.umask(previous);
    tightenDataDir(dir);
  }
}

function setUmask(mask: number): number | undefined {
  try {
    return process.umask(mask);
  } catch {
    return undefined;
  }
}
