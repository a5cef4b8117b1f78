export { createProvisioningService, PROVISIONING_TOPIC, PROVISIONING_ACTOR, type ProvisioningService, type OpenRequest, type ProvisioningOptions } from './service.ts';
export { provisioningRoutes } from './routes.ts';
export { CreateProvisioningInput, ProvisioningView, ListProvisioningQuery } from './schema.ts';
