/**
 * Packaging: the output directory of a finished build as a gzipped tarball, written beside the
 * task and renamed into place once complete, with its sha256 and size. The directory must lie
 * inside the checkout after resolving symlinks (a repository could point `dist` at /etc), and
 * symlinks inside it are stored as links, never followed.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, realpathSync, renameSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { TaskError } from '../exec/controller.ts';

export interface Packaged {
  file: string;
  sha256: string;
  size: number;
}

/** The sha256 (hex) and size of a file. */
export async function digestOf(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return { sha256: hash.digest('hex'), size: statSync(file).size };
}

/** Package `outputPath` of the checkout `src` into `dest` (.tar.gz). */
export async function packageOutput(src: string, outputPath: string, dest: string): Promise<Packaged> {
  const dir = join(src, outputPath);
  if (!existsSync(dir)) throw new TaskError(`the build left no output at ${outputPath}`);
  const real = realpathSync(dir);
  const root = realpathSync(src);
  if (real !== root && !real.startsWith(root + sep)) throw new TaskError(`the output path ${outputPath} leads outside the checkout`);
  if (!statSync(real).isDirectory()) throw new TaskError(`the output path ${outputPath} is not a directory`);
  const entries = readdirSync(real)
    .filter((e) => e !== '.git')
    .sort();
  if (entries.length === 0) throw new TaskError(`the output directory ${outputPath} is empty`);
  const tmp = `${dest}.tmp`;
  // portable: no owner names, uid/gid or atime, so the same tree packs to the same bytes.
  await tar.create({ gzip: true, cwd: real, file: tmp, portable: true, follow: false, noDirRecurse: false }, entries);
  renameSync(tmp, dest);
  return { file: dest, ...(await digestOf(dest)) };
}
