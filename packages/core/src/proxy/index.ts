/** Schemas and grammars for the Nginx and LVS settings a service and a cluster accept. */
export * from './grammar.ts';
export * from './nginx.ts';
export * from './lvs.ts';
