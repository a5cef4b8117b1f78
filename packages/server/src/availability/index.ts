/**
 * Availability (可用率) and automatic ejection (自动剔除): counts from the nginx access logs that
 * agents on nginx machines push every 10 s, per service, route and backend; SLOs with error budget
 * and burn-rate alerts; Envoy-style outlier detection draining bad backends in discovery.
 *
 * For a deployment's monitor window: `availability.during(nodeId, fromMs, now)` →
 * `{ total, failed, target }`.
 */
export { createAvailabilityService, type AvailabilityService, ACCESS_DOC, ACCESS_STREAM } from './service.ts';
export { availabilityRoutes } from './routes.ts';
export { AVAILABILITY_TOPIC } from './ejector.ts';
export type { ServiceAvailability, BackendView, Figures } from './views.ts';
