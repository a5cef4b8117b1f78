/**
 * The SDK's discovery client: `createDiscoveryClient({url, token, zone?})` → `resolve(path)`,
 * `pick(path, key?)`, `close()`. See client.ts for the behaviour and watch.ts for the connection.
 */
export { createDiscoveryClient, type DiscoveryClient, type DiscoveryClientOptions, type Instance, type WatchStatus } from './client.ts';
export { MAX_WATCHED } from './watch.ts';
export { createRegistration, type CheckResult, type Heartbeat, type Registration, type RegistrationOptions } from './registration.ts';
