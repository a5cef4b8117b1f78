/**
 * The monitor capability: metrics pushed by agents (stream `metrics`) into the embedded store,
 * dashboard reads from it or from Prometheus, Prometheus's service discovery over the tree, the
 * machine counts of a node, collect rules, and the MetricSource alert evaluation reads.
 */
import { isIP } from 'node:net';
import { labelsMatch, MetricsPush, NEED_DEFS, NotFoundError, parseSeriesKey, parseTime, ValidationError, type MonitorOverview, type MonitorQueryParams, type MonitorQueryResult, type MonitorTopParams, type MonitorTopResult } from '@canopy/core';
import type { ChangeFeed, Writer } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import type { Dispatcher } from '../agents/index.ts';
import type { MachineService } from '../machines/index.ts';
import type { TreeNode, TreeService } from '../tree/index.ts';
import { createCollectRules } from './collect-rules.ts';
import { createHistory, type HistoryOptions, type IngestSample } from './history.ts';
import { createRelay } from './relay.ts';
import { DEFAULT_RECORDING, prometheusBackend, recordingRuleFile, type RecordingOptions } from './prometheus.ts';
import { canopyBackend, matchOf, type Scope } from './query.ts';

export const METRICS_STREAM = 'metrics';

export interface MonitorOptions extends HistoryOptions {
  /** Read dashboards from this Prometheus (CANOPY_PROMETHEUS_URL); unset: the embedded store. */
  prometheusUrl?: string | undefined;
  /** Port of the agents' /metrics that service discovery hands Prometheus; default 9100. */
  exporterPort?: number | undefined;
  /** Relay collections through the database to the other replicas (PostgreSQL: there may be some). */
  relay?: boolean | undefined;
  /** Prometheus mode: which nodes' panels the exported recording rules keep, and how often. */
  recording?: Partial<RecordingOptions> | undefined;
}

/** What alert evaluation reads (helper "alerts" codes against it). */
export interface MetricSource {
  /** Points of every series of `metric` whose labels include `match`, for these machines, in [fromMs, toMs]. */
  samples(q: { machineIds: number[]; metric: string; match?: Record<string, string>; fromMs: number; toMs: number }): { machineId: number; labels: Record<string, string>; points: [number, number][] }[];
  /** Called after each ingest batch with the machines it covered. */
  onIngest(fn: (machineIds: number[]) => void): () => void;
}

export type MonitorService = ReturnType<typeof createMonitorService>;

/** Build the monitor capability; `load()` then `start()`. */
export function createMonitorService(
  deps: { writer: Writer; feed: ChangeFeed; db: Queryable; tree: TreeService; machines: MachineService; dispatcher: Dispatcher; onError?: ((err: unknown) => void) | undefined },
  opts: MonitorOptions = {},
) {
  const { db, tree, machines, dispatcher } = deps;
  const now = opts.now ?? Date.now;
  const history = createHistory({ db }, { ...opts, onError: deps.onError });
  const recording: RecordingOptions = {
    minMachines: opts.recording?.minMachines ?? DEFAULT_RECORDING.minMachines,
    intervalSeconds: opts.recording?.intervalSeconds ?? DEFAULT_RECORDING.intervalSeconds,
  };
  const backend = opts.prometheusUrl ? prometheusBackend(opts.prometheusUrl, recording) : canopyBackend(history, now);
  const rules = createCollectRules(deps);
  const generations = new Map<number, { gen: number; keys: string[] }>();
  const lastPush = new Map<number, number>();
  const ingest = (machineId: number, samples: IngestSample[], relayed: boolean) => {
    history.ingest(machineId, samples, relayed);
    lastPush.set(machineId, now());
  };
  const relay = opts.relay ? createRelay({ db, replica: dispatcher.replica, take: (id, samples) => ingest(id, samples, true), onError: deps.onError ?? (() => {}) }) : undefined;

  async function onMetrics(from: { machineId: number }, data: unknown): Promise<void> {
    const push = MetricsPush.parse(data);
    if (push.defs) {
      for (const k of push.defs) parseSeriesKey(k);
      generations.set(from.machineId, { gen: push.gen, keys: push.defs });
    }
    const g = generations.get(from.machineId);
    if (!g || g.gen !== push.gen) throw new Error(NEED_DEFS);
    for (const s of push.samples) if (s.v.length !== g.keys.length) throw new Error(`a sample has ${s.v.length} values for ${g.keys.length} series`);
    const ordered = [...push.samples].sort((a, b) => a.at - b.at);
    const samples = ordered.map((s) => ({ at: s.at, entries: s.v.map((v, i): [string, number | null] => [g.keys[i] as string, v]) }));
    ingest(from.machineId, samples, false);
    relay?.add(from.machineId, samples);
  }

  function scope(node: TreeNode, hostname?: string): Scope {
    const { ids } = machines.model.query({ under: node.id }, Number.MAX_SAFE_INTEGER, undefined);
    const list = ids.map((id) => ({ id, hostname: machines.model.get(id)?.hostname ?? `#${id}` }));
    if (hostname === undefined) return { path: node.path, machines: list };
    const one = list.filter((m) => m.hostname === hostname);
    if (one.length === 0) throw new NotFoundError('machine', `${hostname} under ${node.path}`);
    return { path: node.path, machines: one };
  }

  function range(from: string, to: string): [number, number] {
    const t = now();
    const [a, b] = [parseTime(from, t), parseTime(to, t)];
    if (!(a < b)) throw new ValidationError('from must be before to', [{ path: ['from'], message: `from ${new Date(a).toISOString()} is not before to ${new Date(b).toISOString()}` }]);
    if (b - a > 31 * 86_400_000) throw new ValidationError('range too long', [{ path: ['from'], message: 'at most 31 days' }]);
    return [a, b];
  }

  const source: MetricSource = {
    samples(q) {
      const out: { machineId: number; labels: Record<string, string>; points: [number, number][] }[] = [];
      for (const id of q.machineIds)
        for (const s of history.machineSeries(id)?.values() ?? []) {
          if (s.name !== q.metric || !labelsMatch(s.labels, q.match)) continue;
          out.push({ machineId: id, labels: s.labels, points: history.recent(s, q.fromMs, q.toMs) });
        }
      return out;
    },
    onIngest: history.onIngest,
  };

  return {
    history,
    rules,
    source,
    backendSource: backend.source,
    /** Take a `metrics` push as if it came from the agent of `machineId` (the dispatcher calls it; tests and benches too). */
    push: (machineId: number, data: unknown) => onMetrics({ machineId }, data),
    query(node: TreeNode, p: MonitorQueryParams): Promise<MonitorQueryResult> {
      matchOf(p.match);
      const [from, to] = range(p.from, p.to);
      return backend.query(p, scope(node, p.machine), from, to);
    },
    top(node: TreeNode, p: MonitorTopParams): Promise<MonitorTopResult> {
      return backend.top(p, scope(node));
    },
    async overview(node: TreeNode): Promise<MonitorOverview> {
      const { machines: list } = scope(node);
      const byStatus: Record<string, number> = {};
      for (const m of list) {
        const st = machines.model.get(m.id)?.status ?? 'unknown';
        byStatus[st] = (byStatus[st] ?? 0) + 1;
      }
      const statuses = list.length === 0 ? [] : await dispatcher.statuses(list.map((m) => m.id));
      const byAgent: Record<string, number> = { connected: 0, unreachable: 0, never: list.length - statuses.length };
      for (const s of statuses) byAgent[s.state === 'connected' ? 'connected' : 'unreachable']! += 1;
      const t = now();
      const reporting = list.filter((m) => (lastPush.get(m.id) ?? 0) >= t - 60_000).length;
      return { node: node.path, machines: list.length, byStatus, byAgent, reporting };
    },
    /** Prometheus HTTP SD: one target group per machine, its tree paths in `canopy_paths`. */
    targets(node: TreeNode, port = opts.exporterPort ?? 9100): { targets: string[]; labels: Record<string, string> }[] {
      return scope(node).machines.flatMap(({ id }) => {
        const m = machines.model.get(id);
        if (!m || m.status === 'retired') return [];
        const ip = m.ips[0];
        const host = ip === undefined ? m.hostname : isIP(ip) === 6 ? `[${ip}]` : ip;
        const paths = m.nodeIds.map((n) => tree.model.get(n)?.path).filter((p): p is string => p !== undefined).sort();
        return [{ targets: [`${host}:${port}`], labels: { instance: m.hostname, canopy_machine_id: String(id), canopy_paths: `,${paths.join(',')},`, canopy_zone: m.zone, canopy_idc: m.idc } }];
      });
    },
    /** Prometheus recording rules for the panels of `node` and the nodes beneath with at least `minMachines` machines. */
    recordingRules(node: TreeNode): string {
      const paths = tree.model
        .subtreeIds(node.id)
        .map((id) => tree.model.get(id))
        .filter((n): n is TreeNode => n !== undefined && scope(n).machines.length >= recording.minMachines)
        .map((n) => n.path)
        .sort();
      return recordingRuleFile(paths, recording.intervalSeconds);
    },
    load: async () => {
      await history.load();
      await rules.load();
      await relay?.load();
    },
    start(): void {
      dispatcher.onPush(METRICS_STREAM, onMetrics);
      rules.start();
      history.start();
      relay?.start();
    },
    async stop(): Promise<void> {
      rules.stop();
      await relay?.stop();
      await history.stop();
    },
  };
}
