export * from './states.ts';
export * from './transition.ts';
export * from './kinds.ts';
export * from './protocol.ts';
export * from './batches.ts';
