export { createAuthService, ACL_TOPIC, type AuthService, type Principal } from './service.ts';
export { authRoutes } from './routes.ts';
export type { AclModel } from './acl.ts';
