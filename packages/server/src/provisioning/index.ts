export { createProvisioningService, PROVISIONING_TOPIC, PROVISIONING_ACTOR, ENROLLMENT_TOKEN_PREFIX, type ProvisioningService, type OpenRequest, type ProvisioningOptions } from './service.ts';
export { provisioningRoutes } from './routes.ts';
export { CreateProvisioningInput, ProvisioningView, ListProvisioningQuery } from './schema.ts';
export { createEnrollment, EnrollInput, EnrolledView, machineFieldsOf, type Enrollment, type IssueIn } from './enroll.ts';
