export * from './schema.ts';
export * from './effective.ts';
export * from './views.ts';
