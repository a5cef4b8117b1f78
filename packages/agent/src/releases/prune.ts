/**
 * Keeping `keep` releases (Capistrano's `keep_releases`): after a switch, the oldest release dirs
 * beyond the newest `keep` are deleted, with their cached artifact, so disk use stays bounded while
 * a rollback to a recent release needs no download. The release `current` points to and any a
 * supervised program still runs from are never deleted, however old.
 */
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MARKER } from '../artifacts/index.ts';
import { currentDir, type ReleaseLayout } from './layout.ts';

/** An unpack in progress (`<version>.unpack-<8 hex>`, unpack.ts): not a release yet. */
const UNPACKING = /\.unpack-[0-9a-f]{8}$/;

export interface PruneOptions {
  keep: number;
  /** Release dirs in use (absolute): kept whatever their age. */
  inUse?: Iterable<string> | undefined;
  /** The artifact cache: a deleted release's verified artifact goes too. */
  cacheDir?: string | undefined;
}

interface Release {
  version: string;
  dir: string;
  /** When it was unpacked (its marker's mtime), ms. */
  at: number;
}

/** The unpacked releases of a layout, newest first. */
export function listReleases(layout: ReleaseLayout): Release[] {
  let names: string[];
  try {
    names = readdirSync(layout.releases);
  } catch {
    return [];
  }
  const out: Release[] = [];
  for (const version of names) {
    if (UNPACKING.test(version)) continue;
    const dir = join(layout.releases, version);
    try {
      const st = statSync(dir);
      if (!st.isDirectory()) continue;
      out.push({ version, dir, at: statSync(join(dir, MARKER), { throwIfNoEntry: false })?.mtimeMs ?? st.mtimeMs });
    } catch {
      // Removed meanwhile.
    }
  }
  // Same instant: the name breaks the tie, so the order is stable.
  return out.sort((a, b) => b.at - a.at || b.version.localeCompare(a.version));
}

/** Delete the releases beyond the newest `keep`, except those in use; returns the versions deleted. */
export function pruneReleases(layout: ReleaseLayout, opts: PruneOptions): string[] {
  const current = currentDir(layout);
  const kept = new Set([...(opts.inUse ?? [])].map((d) => resolve(d)));
  if (current !== undefined) kept.add(current);
  const removed: string[] = [];
  for (const r of listReleases(layout).slice(opts.keep)) {
    if (kept.has(r.dir)) continue;
    const sha = readMarker(r.dir);
    rmSync(r.dir, { recursive: true, force: true });
    if (sha !== undefined && opts.cacheDir !== undefined) rmSync(join(opts.cacheDir, `${sha}.artifact`), { force: true });
    removed.push(r.version);
  }
  return removed;
}

function readMarker(dir: string): string | undefined {
  try {
    const sha = readFileSync(join(dir, MARKER), 'utf8').trim();
    return /^[0-9a-f]{64}$/.test(sha) ? sha : undefined;
  } catch {
    return undefined;
  }
}
