export * from './errors.ts';
export * from './names.ts';
export * from './operations.ts';
export * from './schemas/index.ts';
export * from './lb/index.ts';
export * from './enc/index.ts';
export * from './proxy/index.ts';
export * from './discovery/index.ts';
