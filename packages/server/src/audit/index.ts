export { auditRoutes } from './routes.ts';
export { queryAudit, type AuditFilter } from './repo.ts';
