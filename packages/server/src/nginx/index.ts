/** The nginx capability's door: pure renderers of a cluster's config and the real-nginx harness. */
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
