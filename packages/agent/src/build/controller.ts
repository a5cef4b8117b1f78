/**
 * The `build` task: fetch the commit, run the build command, package the output directory and
 * upload it — SwarmKit's controller interface over the exec machinery. The fetch and the command
 * run as one detached process group (script.ts), so a cancel (desired SHUTDOWN) kills all of it
 * and an agent killed with -9 adopts the running build on restart. Packaging and upload happen in
 * `wait`, after the group exited 0; the tarball and then the upload are recorded in the task's
 * stored record, so a restarted agent neither packs twice nor uploads twice.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExecSpec, TaskState, type BuildSpec } from '@canopy/core';
import { TaskError, type Controller, type TaskContext } from '../exec/controller.ts';
import { processController } from '../exec/process.ts';
import { lookupUser } from '../exec/users.ts';
import { packageOutput, type Packaged } from './package.ts';
import { BUILD_SCRIPT, buildEnv, shownUrl } from './script.ts';
import { UploadError, uploadArtifact, type UploadResult } from './upload.ts';

/** How long a finished build keeps trying to reach the control center with its artifact. */
const UPLOAD_PATIENCE_MS = 15 * 60_000;

interface BuildRecord {
  packaged?: Packaged;
  uploaded?: UploadResult;
  commit?: string;
}

/** The last line of a log worth quoting (git's `fatal:` line when there is one). */
function lastWords(file: string): string {
  let text = '';
  try {
    const size = statSync(file).size;
    const len = Math.min(size, 4096);
    const buf = Buffer.alloc(len);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buf, 0, len, size - len);
    } finally {
      closeSync(fd);
    }
    text = buf.toString('utf8');
  } catch {
    return '';
  }
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('canopy:'));
  return [...lines].reverse().find((l) => /^(fatal|error):/i.test(l)) ?? lines.at(-1) ?? '';
}

/** A controller for one build. */
export function buildController(ctx: TaskContext, spec: BuildSpec): Controller {
  const { task, dir } = ctx;
  const user = spec.user === 'root' ? undefined : spec.user;
  // A non-root build cannot enter the agent's state dir (0700): it works in a folder of its own.
  const workspace = user ? join(tmpdir(), `canopy-build-${task.assignment.taskId}`) : join(dir, 'work');
  const exec = ExecSpec.parse({
    script: BUILD_SCRIPT,
    user: spec.user,
    timeoutSeconds: spec.timeoutSeconds,
    killGraceSeconds: spec.killGraceSeconds,
    outputLimitBytes: spec.logLimitBytes,
    env: buildEnv(spec, workspace),
  });
  const inner = processController(ctx, exec);
  const logFile = join(dir, 'stdout');
  const record = (): BuildRecord => (task.data ??= {}) as BuildRecord;
  const say = (line: string) => appendFileSync(logFile, `canopy: ${line}\n`);
  let uploading: AbortController | undefined;

  function explain(err: TaskError): TaskError {
    if (err.temporary || task.killedBecause) return err;
    const phase = existsSync(join(workspace, 'phase')) ? readFileSync(join(workspace, 'phase'), 'utf8').trim() : 'fetch';
    const why = lastWords(logFile);
    if (phase === 'fetch') return new TaskError(`could not fetch ${spec.ref} from ${shownUrl(spec.repo)}${why ? `: ${why}` : ''}`, { exitCode: err.exitCode });
    return new TaskError(`the build command failed (${err.message})${why ? `: ${why}` : ''}`, { exitCode: err.exitCode });
  }

  async function upload(signal: AbortSignal, packaged: Packaged, commit: string): Promise<UploadResult> {
    const cred = ctx.storage.readCredential();
    if (!cred) throw new TaskError('this agent has no credential to upload with');
    const deadline = Date.now() + UPLOAD_PATIENCE_MS;
    let backoff = 500;
    for (;;) {
      uploading = new AbortController();
      const both = AbortSignal.any([signal, uploading.signal]);
      try {
        return await uploadArtifact(cred, spec.buildId, packaged.file, { sha256: packaged.sha256, commit }, both);
      } catch (err) {
        if (both.aborted) throw new TaskError('upload interrupted', { temporary: true });
        if (err instanceof UploadError && err.final) throw new TaskError(err.message);
        if (Date.now() > deadline) throw new TaskError(`${(err as Error).message}; gave up after ${UPLOAD_PATIENCE_MS / 60_000} minutes`);
        say(`${(err as Error).message}; trying again`);
        await sleep(backoff, undefined, { signal }).catch(() => {});
        backoff = Math.min(backoff * 2, 15_000);
      } finally {
        uploading = undefined;
      }
    }
  }

  return {
    async prepare() {
      const git = spawnSync('git', ['--version'], { stdio: 'ignore' });
      if (git.error || git.status !== 0) throw new TaskError('git is not installed on this build machine');
      const owner = user ? lookupUser(user) : undefined;
      mkdirSync(workspace, { recursive: true, mode: 0o700 });
      if (owner) chownSync(workspace, owner.uid, owner.gid);
      await inner.prepare();
    },

    start: () => inner.start(),

    async wait(signal) {
      const rec = record();
      if (rec.uploaded) return 0;
      try {
        await inner.wait(signal);
      } catch (err) {
        throw err instanceof TaskError ? explain(err) : err;
      }
      const commit = rec.commit ?? readFileSync(join(workspace, 'commit'), 'utf8').trim();
      rec.commit = commit;
      if (!rec.packaged || !existsSync(rec.packaged.file)) {
        say(`packaging ${spec.outputPath}`);
        rec.packaged = await packageOutput(join(workspace, 'src'), spec.outputPath, join(dir, 'artifact.tar.gz'));
        ctx.save();
        say(`packaged ${rec.packaged.size} bytes, sha256 ${rec.packaged.sha256}`);
      }
      say('uploading to the artifact repository');
      rec.uploaded = await upload(signal, rec.packaged, commit);
      ctx.save();
      say(`stored as version ${rec.uploaded.version}`);
      rmSync(join(workspace, 'src'), { recursive: true, force: true });
      rmSync(rec.packaged.file, { force: true });
      return 0;
    },

    async shutdown() {
      uploading?.abort();
      await inner.shutdown();
    },

    async remove() {
      await inner.remove();
      rmSync(workspace, { recursive: true, force: true });
    },

    message(state) {
      const rec = record();
      if (state === TaskState.COMPLETE && rec.uploaded) return `built ${(rec.commit ?? '').slice(0, 12)}, stored as version ${rec.uploaded.version} (${rec.uploaded.size} bytes)`;
      return undefined;
    },

    output: () => inner.output?.(),
  };
}
