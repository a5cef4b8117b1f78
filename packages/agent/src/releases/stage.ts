/**
 * Staging a release (a `process` task's prepare, a deployment's pre-staging): the artifact is
 * downloaded from the control center with the machine's credential (resuming a partial copy),
 * verified against the sha256 the task names, and unpacked all-or-nothing into
 * `releases/<version>`. A second staging after an agent restart finds the dir whole and stops
 * there. A refused artifact is a fatal TaskError carrying the refusal, which the deployment shows.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReleaseArtifact } from '@canopy/core';
import { ArtifactRefused, downloadArtifact, MARKER, unpackArtifact } from '../artifacts/index.ts';
import { TaskError, type ControlCenter } from '../exec/controller.ts';
import type { TaskLog } from './log.ts';

export interface StageOptions {
  artifact: ReleaseArtifact;
  /** Where it is unpacked: `releases/<version>`. */
  dir: string;
  controlCenter: ControlCenter | undefined;
  /** The agent's artifact cache (`<state dir>/artifacts`). */
  cacheDir: string;
  log: TaskLog;
  signal?: AbortSignal | undefined;
}

/** Download, verify and unpack `artifact` into `dir` (a no-op when `dir` already holds it). */
export async function stageRelease(opts: StageOptions): Promise<void> {
  const { artifact, dir, log } = opts;
  const marker = await readFile(join(dir, MARKER), 'utf8').catch(() => undefined);
  if (marker?.trim() === artifact.sha256) {
    log.say(`release already unpacked in ${dir}`);
    return;
  }
  const cc = opts.controlCenter;
  if (!cc) throw new TaskError('this agent has no control center to download the artifact from');
  const url = new URL(artifact.path, cc.url).toString();
  log.say(`downloading ${artifact.path} (${artifact.size} bytes)`);
  let shown = 0;
  try {
    const got = await downloadArtifact(
      { url, sha256: artifact.sha256, size: artifact.size, token: cc.token, caPem: cc.caPem },
      {
        cacheDir: opts.cacheDir,
        signal: opts.signal,
        // A line a quarter of the way, not one per chunk.
        onProgress: (have, total) => {
          const of = total ?? artifact.size;
          if (of <= 0 || have >= of || have - shown < of / 4) return;
          shown = have;
          log.say(`downloading: ${have} of ${of} bytes`);
        },
      },
    );
    log.say(got.fetched === 0 ? `verified sha256 ${artifact.sha256} (the cached copy)` : `verified sha256 ${artifact.sha256} (${got.fetched} bytes fetched${got.resumedFrom > 0 ? `, resumed from byte ${got.resumedFrom}` : ''})`);
    await unpackArtifact(got.file, dir, artifact.sha256);
    log.say(`unpacked into ${dir}`);
  } catch (err) {
    if (err instanceof ArtifactRefused) {
      log.say(err.message);
      throw new TaskError(err.message);
    }
    throw err;
  }
}
