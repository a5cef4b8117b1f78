export { createMonitorService, METRICS_STREAM, type MetricSource, type MonitorOptions, type MonitorService } from './service.ts';
export { monitorRoutes } from './routes.ts';
export { COLLECT_DOC, COLLECT_TOPIC } from './collect-rules.ts';
export { DEFAULT_TIERS, type Tier } from './store.ts';
