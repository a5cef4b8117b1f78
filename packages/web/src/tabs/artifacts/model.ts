/** Artifacts as the console shows them: sizes, digests, the upload form's checks and the download link. */
import { artifactVersionProblem, type ArtifactView } from '@canopy/core';

export type { ArtifactView };

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** `52428800` → `50.0 MiB`. */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${UNITS[u]}`;
}

/** Why the upload form cannot be sent, or undefined when it can. */
export function uploadProblem(version: string | undefined, file: File | undefined, existing: readonly string[]): string | undefined {
  if (!version) return 'give the version (e.g. 1.4.2)';
  const p = artifactVersionProblem(version);
  if (p) return `version ${p}`;
  if (existing.includes(version)) return `version ${version} exists: versions are immutable, choose a new one`;
  if (!file) return 'choose the file to upload (a .tar.gz)';
  return undefined;
}

/** The download URL of a version (a plain link: the session cookie authorises it). */
export function downloadUrl(a: Pick<ArtifactView, 'url'>): string {
  return a.url;
}

/** The sha256 of a file, hex, computed in the browser so the server can check the upload. */
export async function sha256Hex(data: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', data);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
