export * from './functions.ts';
export * from './schema.ts';
export * from './template.ts';
export * from './formats.ts';
export * from './resolve.ts';
export * from './lifecycle.ts';
export * from './evaluate.ts';
export * from './prometheus.ts';
