/**
 * The agent capability's first piece: machine credentials (the per-machine agent with its task
 * lifecycle comes with the deployment system).
 *
 *   agents.authenticate(secret) → Principal | undefined      (Bearer secrets starting `cnm_`)
 *   POST   /api/v1/machines/{hostname}/credentials {name?}   → 201 {id, name, prefix, token, …}
 *   GET    /api/v1/machines/{hostname}/credentials           → {items}
 *   DELETE /api/v1/machines/{hostname}/credentials/{id}      → 204
 *
 * An agent actor is `{kind: 'agent', id: null, name: 'machine:<hostname>', machineId}`; what it
 * may do is decided where it acts (discovery/access.ts: its own instances, and reading services).
 */
export { createAgentService, MACHINE_SECRET_PREFIX, type AgentService } from './service.ts';
export { agentRoutes } from './routes.ts';
export { createDispatcher, TASK_TOPIC, TASK_STATUS_TOPIC, AGENT_STATUS_TOPIC, type Dispatcher, type DispatcherOptions, type NewTask } from './dispatcher.ts';
export { sessionRoutes } from './session-routes.ts';
export { agentStatusRoutes, agentBlocks, AgentView } from './status-routes.ts';
export { enrollRoutes } from './enroll-routes.ts';
export { installRoutes, type InstallOptions } from './install-routes.ts';
