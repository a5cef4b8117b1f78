/** One controller per task kind. A kind the agent does not know gets one that refuses it in prepare. */
import { parseTaskSpec, type BuildSpec, type ConfigSpec, type ExecSpec, type ProcessTaskSpec, type RebootSpec } from '@canopy/core';
import { TaskError, type Controller, type ControllerFactory, type TaskContext } from './controller.ts';
import { configController } from './config.ts';
import { processController } from './process.ts';
import { rebootController } from './reboot.ts';
import { buildController } from '../build/index.ts';
import { superviseController } from './supervise.ts';

export { TaskError, type AgentSettings, type Controller, type TaskContext, type OutputSource } from './controller.ts';

const CONTROLLERS: Record<string, ControllerFactory> = {
  exec: (ctx) => processController(ctx, ctx.task.assignment.spec as ExecSpec),
  init: (ctx) => processController(ctx, ctx.task.assignment.spec as ExecSpec),
  reboot: (ctx) => rebootController(ctx, ctx.task.assignment.spec as RebootSpec),
  config: (ctx) => configController(ctx, ctx.task.assignment.spec as ConfigSpec),
  build: (ctx) => buildController(ctx, ctx.task.assignment.spec as BuildSpec),
  process: (ctx) => superviseController(ctx, ctx.task.assignment.spec as ProcessTaskSpec),
};

function refusing(reason: string): Controller {
  const no = async () => {
    throw new TaskError(reason);
  };
  return { prepare: no, start: no, wait: no, shutdown: async () => {}, remove: async () => {} };
}

/** The controller for a task: its kind's, over the spec parsed again here, or one that refuses it. */
export function controllerFor(ctx: TaskContext): Controller {
  const { kind, spec } = ctx.task.assignment;
  const parsed = parseTaskSpec(kind, spec);
  if (!parsed.ok) return refusing(parsed.reason);
  const make = CONTROLLERS[kind];
  if (!make) return refusing(`this agent does not run "${kind}" tasks`);
  const task = { ...ctx.task, assignment: { ...ctx.task.assignment, spec: parsed.spec } };
  Object.assign(ctx.task, task);
  return make(ctx);
}
