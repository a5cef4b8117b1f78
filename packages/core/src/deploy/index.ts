export * from './strategy.ts';
export * from './plan.ts';
