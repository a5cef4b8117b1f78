/**
 * The nginx capability's door: pure renderers and the real-nginx harness; domains, per-service
 * settings and clusters; each cluster's published config versions (plan, apply, rollback,
 * automatic re-publication on backend changes, watches). The version machinery below the second
 * comment is shared with the LVS capability.
 */
export type * from './model.ts';
export {
  LOG_FORMAT,
  byUriLength,
  renderDefaultServers,
  renderDomainServers,
  renderHttpPrelude,
  renderLocation,
  renderLocationBody,
  renderUpstream,
} from './render.ts';
export { NGINX_FILES, composeNginxFiles, renderNginxChunks, renderNginxConfig, routesByDomain, validateCluster, type NginxChunks } from './compose.ts';
export { checkNginxConfig, createSelfSignedCert, findProgram, freePorts, startNginx, type ConfigCheck, type RunningNginx } from './nginx-binary.ts';
export { createNginxService, type NginxService, type NginxServiceDeps } from './service.ts';
export { nginxRoutes, parseWith } from './routes.ts';
export { NGINX_TOPIC } from './settings-service.ts';
export { createNginxRenderer, type NginxInput, type NginxInputService, type NginxClusterOptions, type NginxRenderState } from './cluster-render.ts';
// Shared with the LVS capability: settings rows, published versions and their routes.
export { NO_BACKENDS, proxyStatus, serversOn, serverChanges, type BackendInstance, type BackendSource } from './backends.ts';
export { createSettingsModel, type SettingsModel, type SettingsTableModel } from './settings-model.ts';
export { createPublisher, type ClusterRenderer, type HashedFile, type Rendering, type VersionMeta, type PlanResult, type ApplyResult } from './publisher.ts';
export { configRoutes, AnyObject, type ConfigRoutesTarget } from './config-routes.ts';
export type { ProxyAcl } from './domain-access.ts';
export type { RestoreReport, RestoreHook, VersionDiff } from './publisher.ts';
export { PublishStatus } from './schema.ts';
export { publishStatus } from './views.ts';
export { canonicalJson, diffFiles, sha256 } from './diff.ts';
export type { SettingsRow } from './repo.ts';
export { discoveryBackends } from './discovery-source.ts';
// Config push to the clusters' machines (nginx and LVS alike).
export { createRollout, type Rollout, type RolloutStatus } from './rollout.ts';
export { rolloutRoutes, ClusterMachinesView } from './rollout-routes.ts';
