/** The LVS capability's door: the pure keepalived renderer and the real-keepalived check. */
export type * from './model.ts';
export { LVS_FILE, renderLocalAddressGroup, renderLvsConfig, renderVirtualServer } from './render.ts';
export { checkFullnatStructure, toStockKeepalived, usesFullnat } from './fullnat.ts';
export { checkKeepalivedConfig, findKeepalived, type KeepalivedCheck } from './keepalived-binary.ts';
export { createLvsService, type LvsService, type LvsServiceDeps } from './service.ts';
export { lvsRoutes, LvsClusterBody } from './routes.ts';
export { LVS_TOPIC, type LvsClusterSettings } from './settings-service.ts';
export { createLvsRenderer, type LvsInput, type LvsInputService, type KeepalivedChecker } from './cluster-render.ts';
