export * from './spec.ts';
export * from './policy.ts';
export * from './views.ts';
