export { createCronService, CRON_DOC, type CronOptions, type CronService } from './service.ts';
export { cronRoutes } from './routes.ts';
export { CRON_RUNS_STREAM } from './runs.ts';
