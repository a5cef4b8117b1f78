/**
 * Builds (构建): a service node's git source built on a machine of its build pool as a `build`
 * task, its log live, cancellable, the output packaged as tar.gz into the artifact repository.
 *
 *   POST /api/v1/builds {nodePath, repo, ref, command, outputPath, version?, env?, timeoutSeconds?}
 *   GET  /api/v1/builds?under=   GET /api/v1/builds/{id}   GET /api/v1/builds/{id}/log (SSE or text)
 *   POST /api/v1/builds/{id}/cancel
 *   PUT  /api/v1/builds/{id}/artifact          (the build machine's agent only)
 *   GET|PUT /api/v1/nodes/{path}/build-settings {pool, maxPerMachine, user}
 */
export { createBuildService, BUILD_TOPIC, type BuildService } from './service.ts';
export { createBuildSettings, type BuildSettings } from './settings.ts';
export { buildRoutes } from './routes.ts';
export type { ArtifactSink } from './artifact-port.ts';
