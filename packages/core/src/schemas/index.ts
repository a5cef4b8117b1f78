export * from './common.ts';
export * from './tree.ts';
export * from './machines.ts';
export * from './auth.ts';
export * from './agents.ts';
export * from './jobs.ts';
