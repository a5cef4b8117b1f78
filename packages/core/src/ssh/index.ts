/** SSH access: the per-machine document, settings, login events and views (schemas.ts). */
export * from './schemas.ts';
