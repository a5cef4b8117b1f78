/**
 * Alerting: rules on tree nodes, judged by one replica on every metrics ingest, notified in groups;
 * or, in Prometheus mode, the same rules exported to Prometheus and Alertmanager's alerts taken in.
 */
import type { Actor, ChangeFeed, Writer } from '../changes/index.ts';
import type { Database, Queryable } from '../db/connection.ts';
import type { MachineService } from '../machines/index.ts';
import type { MetricSource } from '../monitor/index.ts';
import type { TreeNode, TreeService } from '../tree/index.ts';
import { createEvaluator, type BuiltinSeries, type EvaluatorOptions } from './evaluator.ts';
import { createNotifier, type NotifierOptions } from './notifier.ts';
import { ingestAlertmanager, ruleFile, type PromTarget } from './prometheus-mode.ts';
import { createAlertService } from './service.ts';

export { alertRoutes } from './routes.ts';
export { ALERT_TOPIC } from './model.ts';
export type { AlertService } from './service.ts';

export interface AlertOptions extends EvaluatorOptions, NotifierOptions {
  /** Seconds per point when `#n` becomes a PromQL range (the scrape interval); default 10. */
  prometheusStepSeconds?: number | undefined;
  now?: (() => number) | undefined;
}

export type Alerting = ReturnType<typeof createAlerting>;

/** Build alerting over the metric source; `load()`, then `start()`. */
export function createAlerting(
  deps: { writer: Writer; feed: ChangeFeed; database: Database; db: Queryable; tree: TreeService; machines: MachineService; source: MetricSource; builtin?: BuiltinSeries | undefined; onError?: ((err: unknown) => void) | undefined },
  opts: AlertOptions = {},
) {
  const now = opts.now ?? Date.now;
  const onError = deps.onError ?? (() => {});
  const service = createAlertService({ ...deps, now });
  const notifier = createNotifier({ model: service.model, tree: deps.tree.model, now, onError }, opts);
  const evaluator = createEvaluator({ ...deps, model: service.model, tree: deps.tree.model, notifier, now, onError }, opts);
  return {
    service,
    notifier,
    evaluator,
    tree: deps.tree.model,
    ruleFile: (node: TreeNode) => ruleFile(service.model, deps.tree.model, node, opts.prometheusStepSeconds ?? 10),
    ingestAlertmanager: (actor: Actor, targets: PromTarget[]) => ingestAlertmanager({ writer: deps.writer, model: service.model, tree: deps.tree.model, machines: deps.machines, notifier, now }, actor, targets),
    load: () => service.load(),
    start: () => evaluator.start(),
    async stop(): Promise<void> {
      await evaluator.stop();
      await notifier.flush();
    },
  };
}
