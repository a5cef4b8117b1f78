export { createTreeService, etagOf, iso, TREE_TOPIC, type DeleteGuard, type TreeService, type TreeChange } from './service.ts';
export type { TreeNode, TreeModel } from './model.ts';
export { treeRoutes } from './routes.ts';
export { redactPaths, treeLens, type TreeLens } from './visibility.ts';
