export { createTreeService, etagOf, iso, TREE_TOPIC, type TreeService, type TreeChange } from './service.ts';
export type { TreeNode, TreeModel } from './model.ts';
export { treeRoutes } from './routes.ts';
