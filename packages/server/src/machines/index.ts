export { createMachineService, machineEtag, MACHINE_TOPIC, type MachineService } from './service.ts';
export { machineRoutes } from './routes.ts';
export { createMachineAuthz } from './authz.ts';
