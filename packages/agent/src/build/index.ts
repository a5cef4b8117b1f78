/** The `build` task kind's controller (builds capability, agent side). */
export { buildController } from './controller.ts';
