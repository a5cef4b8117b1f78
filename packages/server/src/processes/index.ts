/**
 * Supervised processes (issue 11): a node declares its process; one `process` task per machine of
 * the node runs it under the agent's supervisor; agents push live states on `processes`.
 *
 *   PUT|GET|DELETE /api/v1/nodes/{path}/process                 the node's declaration (ProcessSpec)
 *   GET  /api/v1/nodes/{path}/processes                          every machine's process at or under the node
 *   POST /api/v1/nodes/{path}/processes/{start|stop|restart}     restart: rolling, one machine at a time
 *   GET  /api/v1/nodes/{path}/processes/logs?host=&stream=&lines=&follow=   (follow: text/event-stream)
 */
export { createProcessService, type ProcessService } from './service.ts';
export { processRoutes } from './routes.ts';
export { PROCESS_TOPIC, PROCESS_STATE_TOPIC } from './orchestrator.ts';
export { OWNER_KIND as PROCESS_OWNER_KIND, readiness as processReadiness } from './repo.ts';
