export * from './strategy.ts';
export * from './plan.ts';
export * from './schemas.ts';
