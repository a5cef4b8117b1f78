export * from './grammar.ts';
export * from './values.ts';
export * from './schema.ts';
export * from './result.ts';
