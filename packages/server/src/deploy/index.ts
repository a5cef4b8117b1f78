/**
 * Deployments (issue 11): rolling releases of a node's supervised process, every host staged first.
 *
 *   POST /api/v1/deployments {nodePath, version, strategy}        201, the deployment with its hosts
 *   GET  /api/v1/deployments?node=&limit=&cursor=                  newest first
 *   GET  /api/v1/deployments/{id}            (+ /log: server-sent events of its detail)
 *   POST /api/v1/deployments/{id}/{pause|resume|stop|rollback|approve}
 *   GET  /api/v1/deployments/{id}/hosts/{hostname}/log             the host's task log
 *   GET  /api/v1/nodes/{path}/deploy/running                       which version runs where
 *   GET|PUT /api/v1/nodes/{path}/deploy-policy                     {requireApproval}, inherited
 */
export { createDeployService, type DeployService } from './service.ts';
export { deploymentRoutes } from './routes.ts';
export { DEPLOY_TOPIC } from './orchestrator.ts';
