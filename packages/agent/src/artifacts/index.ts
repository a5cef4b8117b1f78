/**
 * The agent's artifact library (what a deployment's prepare step calls): download with Range
 * resume into the cache, verify the sha256 the task names, unpack all-or-nothing. A corrupt,
 * truncated or unsafe artifact is refused with an `ArtifactRefused` whose `reason` says which.
 */
import { downloadArtifact, type ArtifactSource, type DownloadOptions } from './download.ts';
import { unpackArtifact } from './unpack.ts';

export { ArtifactRefused, check as checkArtifact, downloadArtifact, type ArtifactSource, type DownloadOptions, type Downloaded, type RefusalReason } from './download.ts';
export { unpackArtifact, unsafeEntry, MARKER } from './unpack.ts';

/** Download (or reuse the cached copy), verify, and unpack into `dest`; resolves with `dest`. */
export async function fetchVerifyUnpack(src: ArtifactSource, dest: string, opts: DownloadOptions): Promise<{ dest: string; fetched: number; resumedFrom: number }> {
  const got = await downloadArtifact(src, opts);
  await unpackArtifact(got.file, dest, src.sha256);
  return { dest, fetched: got.fetched, resumedFrom: got.resumedFrom };
}
