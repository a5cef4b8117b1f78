/** Service discovery shapes and the instance-selection rule shared by server, DNS, SDK and console. */
export * from './schema.ts';
export * from './queries.ts';
export * from './select.ts';
