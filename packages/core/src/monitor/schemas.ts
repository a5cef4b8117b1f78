/** Shapes of monitoring shared by the agent, the control center, the CLI and the console. */
import { z } from 'zod';
import { Hostname, NodePath } from '../schemas/common.ts';
import { LABEL_NAME_RE, METRIC_NAME_RE } from './series.ts';

export const MetricName = z.string().regex(METRIC_NAME_RE, 'must be a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)');
export const LabelName = z.string().regex(LABEL_NAME_RE, 'must be a Prometheus label name');

/**
 * What an agent pushes on stream `metrics`: the series keys once (`defs`, numbered by `gen`), then
 * only values in that order, so a push of 50 series is a few hundred bytes. Samples collected while
 * the session was down travel together when it returns.
 */
export const MetricsPush = z.strictObject({
  gen: z.number().int().min(0),
  defs: z.array(z.string().min(1).max(1024)).max(5000).optional(),
  samples: z
    .array(z.strictObject({ at: z.number().int().positive(), v: z.array(z.number().nullable()).max(5000) }))
    .min(1)
    .max(360),
});
export type MetricsPush = z.infer<typeof MetricsPush>;

/** The error text that asks the agent to send its series keys again. */
export const NEED_DEFS = 'unknown series generation: send defs';

export const AGGREGATIONS = ['avg', 'max', 'min', 'sum', 'p95'] as const;
export const Aggregation = z.enum(AGGREGATIONS);
export type Aggregation = z.infer<typeof Aggregation>;
/** The aggregations across machines the Dashboard tab offers (Prometheus mode records these). */
export const DASHBOARD_AGGREGATIONS: readonly Aggregation[] = ['avg', 'max', 'p95'];

const TIME_RE = /^(now)?(-\d{1,6}[smhdw])?$|^\d{10,14}$|^\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)$/;
/** A time: ms since the epoch, an ISO timestamp, `now`, or relative to now (`-1h`, `now-7d`). */
export const TimeParam = z.string().regex(TIME_RE, 'must be ms since the epoch, an ISO 8601 time, "now" or relative like -1h / now-7d');

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** The time `text` (a TimeParam) names, in ms. */
export function parseTime(text: string, nowMs: number): number {
  if (/^\d{10,14}$/.test(text)) return Number(text);
  const rel = /^(?:now)?(?:-(\d+)([smhdw]))?$/.exec(text);
  if (rel) return rel[1] === undefined ? nowMs : nowMs - Number(rel[1]) * (UNIT_MS[rel[2] as string] as number);
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new Error(`"${text}" is not a time`);
  return t;
}

export const MonitorQueryParams = z.strictObject({
  under: NodePath,
  metric: MetricName,
  /** Label filter `mode=idle,device=sda`. */
  match: z.string().max(1000).optional(),
  agg: Aggregation.default('avg'),
  from: TimeParam.default('-1h'),
  to: TimeParam.default('now'),
  /** Seconds per point; default: about 240 points over the range. */
  step: z.coerce.number().int().min(10).max(86_400).optional(),
  /** One series per machine (`machine`) or per value of a label, instead of one over the subtree. */
  by: z.union([z.literal('machine'), LabelName]).optional(),
  /** Only this machine (per-machine panels). */
  machine: Hostname.optional(),
});
export type MonitorQueryParams = z.infer<typeof MonitorQueryParams>;

export const QuerySeries = z.object({ labels: z.record(z.string(), z.string()), points: z.array(z.tuple([z.number(), z.number()])) });
export const MonitorQueryResult = z.object({
  source: z.enum(['canopy', 'prometheus']),
  metric: z.string(),
  agg: Aggregation,
  from: z.number(),
  to: z.number(),
  step: z.number(),
  /** Machines in the subtree (or the one machine) the query covered. */
  machines: z.number(),
  series: z.array(QuerySeries),
  /**
   * Prometheus mode: the recording rule's series the points come from, from `since` (ms) on; points
   * before it (the rule came later) were computed from the machines' own series.
   */
  recorded: z.object({ series: z.string(), since: z.number() }).optional(),
});
export type MonitorQueryResult = z.infer<typeof MonitorQueryResult>;

export const MonitorTopParams = z.strictObject({
  under: NodePath,
  metric: MetricName,
  match: z.string().max(1000).optional(),
  n: z.coerce.number().int().min(1).max(100).default(10),
  /** Seconds back from now averaged per machine. */
  window: z.coerce.number().int().min(10).max(86_400).default(300),
  order: z.enum(['desc', 'asc']).default('desc'),
});
export type MonitorTopParams = z.infer<typeof MonitorTopParams>;

export const MonitorTopResult = z.object({
  source: z.enum(['canopy', 'prometheus']),
  metric: z.string(),
  items: z.array(z.object({ hostname: z.string(), machineId: z.number(), value: z.number() })),
});
export type MonitorTopResult = z.infer<typeof MonitorTopResult>;

export const MonitorOverview = z.object({
  node: z.string(),
  machines: z.number(),
  /** Machines by their status field (online, maintenance…). */
  byStatus: z.record(z.string(), z.number()),
  /** Machines by agent session: connected, unreachable, never (no agent seen). */
  byAgent: z.record(z.string(), z.number()),
  /** Machines that pushed metrics within the last minute. */
  reporting: z.number(),
});
export type MonitorOverview = z.infer<typeof MonitorOverview>;

/** Prometheus HTTP service discovery: `[{targets, labels}]`. */
export const PrometheusTargets = z.array(z.object({ targets: z.array(z.string()), labels: z.record(z.string(), z.string()) }));
export const PrometheusTargetsParams = z.strictObject({ under: NodePath });
