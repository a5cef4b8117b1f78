export { createEncService, associationEtag, type EncService, type EncOptions, type NodePuppetView } from './service.ts';
export { ENC_TOPIC, type CatalogStatus } from './catalog-store.ts';
export { encRoutes } from './routes.ts';
export { renderEncYaml, renderExplain } from './render.ts';
