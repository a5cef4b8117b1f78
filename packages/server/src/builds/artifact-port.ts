/** What builds need of the artifact repository (artifacts/index.ts), as a narrow port. */
import { NotFoundError, type ArtifactView } from '@canopy/core';
import type { Actor } from '../changes/index.ts';

/** The part of the artifact service builds use (artifacts/index.ts). */
export interface ArtifactSink {
  put(actor: Actor, input: { nodePath: string; version: string; body: NodeJS.ReadableStream; sha256?: string | undefined; commit?: string | null; builder?: string | null; buildId?: number | null; log?: string | null }): Promise<ArtifactView>;
  /** Throws NotFoundError when the version does not exist. */
  get(nodePath: string, version: string): Promise<ArtifactView>;
}

/** True when `nodePath@version` is in the repository. */
export async function artifactExists(artifacts: Pick<ArtifactSink, 'get'>, nodePath: string, version: string): Promise<boolean> {
  try {
    await artifacts.get(nodePath, version);
    return true;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}
