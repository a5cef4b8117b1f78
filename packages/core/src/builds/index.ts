/** Builds: the grammar of what a build names, its API shapes, and the pure slot assignment. */
export * from './grammar.ts';
export * from './schemas.ts';
export * from './assign.ts';
