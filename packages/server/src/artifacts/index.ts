/**
 * The artifact repository (制品库): immutable versions per service, content-addressed by sha256,
 * in the data dir or an S3-compatible bucket.
 *
 *   PUT  /api/v1/artifacts/{path}/{version}?sha256=&commit=&builder=&buildId=&log=   (body: the bytes)
 *   GET  /api/v1/artifacts/{path}/{version}        the bytes: Range, If-Range, If-None-Match; ETag = "sha256"
 *   GET  /api/v1/artifacts/{path}/{version}/meta   metadata      DELETE /api/v1/artifacts/{path}/{version}
 *   GET  /api/v1/artifacts/{path}?subtree=&limit=&cursor=       versions, newest first
 *   POST /api/v1/artifacts/{path}/prune            apply retention now
 *
 * In-process (builds, deploy): `service.put(actor, {nodePath, version, body, sha256?, …})`, `get`,
 * `open`, `markDeployed`; the `inUse` hook keeps running versions from retention.
 */
export { createArtifactService, ARTIFACT_TOPIC, type ArtifactService, type ArtifactDeps, type PutInput } from './service.ts';
export { artifactOptionsFromEnv, type ArtifactOptions } from './config.ts';
export { artifactRoutes } from './routes.ts';
export type { InUse } from './retention.ts';
export type { BlobStore } from './store.ts';
