export { cronModule, CRON_DOC, CRON_RUNS_STREAM } from './module.ts';
