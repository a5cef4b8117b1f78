/**
 * Unpack a verified artifact (tar, gzip or not) into a directory, all or nothing: it is extracted
 * beside the target and renamed into place, so a release directory is either whole or absent.
 * Entries that would land outside it (absolute paths, `..`, links pointing out) and device files
 * refuse the whole artifact.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { extract } from 'tar';
import { ArtifactRefused } from './download.ts';

/** Written inside an unpacked directory: which content it holds, so a second unpack is a no-op. */
export const MARKER = '.canopy-artifact';

const ALLOWED = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

/** Why an entry may not be unpacked, or undefined when it may. */
export function unsafeEntry(path: string, type: string, linkpath: string | undefined): string | undefined {
  if (!ALLOWED.has(type)) return `${path}: entries of type ${type} are not unpacked`;
  if (isAbsolute(path) || escapes(path)) return `${path}: the path leaves the release directory`;
  if ((type === 'SymbolicLink' || type === 'Link') && linkpath !== undefined) {
    // A symlink's target is relative to its own directory; a hard link's to the archive root.
    const target = type === 'SymbolicLink' ? join(dirname(path), linkpath) : linkpath;
    if (isAbsolute(linkpath) || escapes(target)) return `${path}: the link to ${linkpath} points outside the release directory`;
  }
  return undefined;
}

function escapes(rel: string): boolean {
  const n = normalize(rel);
  return n === '..' || n.startsWith(`..${sep}`);
}

/**
 * Unpack `file` (the artifact with digest `sha256`) into `dest`, which must not exist yet unless a
 * previous unpack of the same content made it. Resolves with `dest`.
 */
export async function unpackArtifact(file: string, dest: string, sha256: string): Promise<string> {
  const marker = await readFile(join(dest, MARKER), 'utf8').catch(() => undefined);
  if (marker !== undefined && marker.trim() === sha256) return dest;
  if (await stat(dest).then(() => true, () => false)) {
    throw new ArtifactRefused('invalid', `${dest} exists and holds other content: not unpacking over it`);
  }
  const tmp = `${dest}.unpack-${randomUUID().slice(0, 8)}`;
  await mkdir(tmp, { recursive: true, mode: 0o755 });
  let unsafe: string | undefined;
  try {
    await extract({
      file,
      cwd: tmp,
      strict: true,
      // Files are the agent's user's, whoever packed them on the build host.
      preserveOwner: false,
      filter: (path, entry) => {
        const e = entry as { type?: string; linkpath?: string };
        const why = unsafeEntry(path, e.type ?? 'File', e.linkpath);
        unsafe ??= why;
        return why === undefined;
      },
    });
    if (unsafe) throw new ArtifactRefused('invalid', `unsafe entry: ${unsafe}`);
    await writeFile(join(tmp, MARKER), `${sha256}\n`);
    await mkdir(dirname(dest), { recursive: true });
    await rename(tmp, dest);
    return dest;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (err instanceof ArtifactRefused) throw err;
    throw new ArtifactRefused('invalid', `not a tar archive that unpacks: ${(err as Error).message}`);
  }
}
