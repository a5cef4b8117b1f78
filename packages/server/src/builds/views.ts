/** A build row as the API shows it. */
import { TaskState, type BuildView } from '@canopy/core';
import type { BuildRow } from './repo.ts';

const iso = (t: string | Date | null) => (t === null ? null : new Date(t).toISOString());

function stateLabel(v: number | null): string | null {
  if (v === null) return null;
  return Object.entries(TaskState).find(([, n]) => n === v)?.[0] ?? String(v);
}

/** The view of `b`, with its node and pool at their current paths. */
export function buildView(b: BuildRow, nodePath: string, poolPath: string): BuildView {
  const startedAt = iso(b.startedAt);
  const finishedAt = iso(b.finishedAt);
  return {
    id: b.id,
    nodePath,
    pool: poolPath,
    state: b.state,
    reason: b.reason,
    repo: b.repo,
    ref: b.ref,
    command: b.command,
    outputPath: b.outputPath,
    version: b.version,
    commit: b.commitSha,
    artifact: b.artifactVersion && b.artifactSha256 ? { version: b.artifactVersion, sha256: b.artifactSha256, size: Number(b.artifactSize ?? 0) } : null,
    hostname: b.hostname,
    taskId: b.taskId,
    taskState: stateLabel(b.taskState),
    exitCode: b.exitCode,
    createdBy: b.createdBy,
    createdAt: iso(b.createdAt)!,
    startedAt,
    finishedAt,
    durationMs: startedAt && finishedAt ? Date.parse(finishedAt) - Date.parse(startedAt) : null,
  };
}
