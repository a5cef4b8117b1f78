/**
 * Batch jobs (批量执行、初始化、重启) over the machines of a subtree, a host list or a selector.
 *
 *   POST /api/v1/jobs {kind, target:{under|hosts|selector}, command|script, user, timeoutSeconds, batch}
 *   GET  /api/v1/jobs?under=   GET /api/v1/jobs/{id}   GET /api/v1/jobs/{id}/output (SSE)
 *   POST /api/v1/jobs/{id}/{pause|resume|stop|retry}
 *   GET|PUT|DELETE /api/v1/nodes/{path}/init-command {argv|script, okExitCodes}: what `init` runs below the node
 */
export { createJobService, JOB_TOPIC, type JobService } from './service.ts';
export { jobRoutes } from './routes.ts';
export { createInitCommands, DEFAULT_INIT, type InitCommands } from './init-commands.ts';
export { initCommandRoutes } from './init-routes.ts';
