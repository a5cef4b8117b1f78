/** Shapes shared by the agent, the control center, the CLI and the console for availability. */
import { z } from 'zod';
import { LATENCY_BUCKETS } from './histogram.ts';

/** A status code or a class (`5xx`) that counts as a failure. */
export const FailStatus = z.string().regex(/^(?:[1-5]xx|[1-5]\d\d)$/, 'a status code (503) or class (5xx)');

/** One counted series of one window: a route's final answers (`backend` '') or one backend's attempts. */
export const AccessSeries = z.strictObject({
  domain: z.string().max(253),
  /** The location prefix the request matched. */
  location: z.string().max(1024),
  /** The service's node path. */
  service: z.string().min(1).max(1024),
  /** `ip:port` of the backend tried; '' for the route's final `$status`. */
  backend: z.string().max(300),
  /** Status code → requests (final) or attempts (backend). */
  statuses: z.record(z.string().regex(/^\d{3}$/), z.int().min(0)),
  /** Latency histogram (LATENCY_BOUNDS_MS). */
  latency: z.array(z.int().min(0)).max(LATENCY_BUCKETS),
  /**
   * Backends: runs of consecutive 5xx in the window, in order — before the first other answer
   * (`lead`, all of them when there was none), the longest, and at the end (`trail`) — so the
   * control center joins runs across windows exactly (outlier detection's consecutive check).
   */
  runs: z.strictObject({ lead: z.int().min(0), longest: z.int().min(0), trail: z.int().min(0) }).optional(),
});
export type AccessSeries = z.infer<typeof AccessSeries>;

/** What an agent pushes on stream `access` every window: numbered, so a resent batch counts once. */
export const AccessPush = z.strictObject({
  /** Per agent state dir, from 1, never reused. */
  seq: z.int().min(1),
  /** The agent state's identity: a new state dir starts its numbering again. */
  source: z.string().min(1).max(64),
  from: z.int().min(0),
  to: z.int().min(0),
  series: z.array(AccessSeries).max(20_000),
});
export type AccessPush = z.infer<typeof AccessPush>;

/** One route of the access-log document: requests to `domain` under `location` go to `service`. */
export const AccessRoute = z.strictObject({ domain: z.string(), location: z.string(), upstream: z.string(), service: z.string() });
export type AccessRoute = z.infer<typeof AccessRoute>;

/** Document `access-log`: which logs to tail on an nginx machine and how to read them. */
export const AccessLogDoc = z.strictObject({
  /** Where relative log files are (the cluster's logDir), when the cluster sets one. */
  logDir: z.string().optional(),
  files: z.array(z.strictObject({ file: z.string(), domain: z.string() })),
  routes: z.array(AccessRoute),
});
export type AccessLogDoc = z.infer<typeof AccessLogDoc>;

/** Envoy outlier detection's settings, with its defaults. */
export const EjectionSettings = z.strictObject({
  enabled: z.boolean().default(true),
  /** Consecutive 5xx from one backend before it is ejected; 0 turns the check off. */
  consecutive5xx: z.int().min(0).max(1000).default(5),
  intervalSeconds: z.int().min(1).max(3600).default(10),
  baseEjectionSeconds: z.int().min(1).max(3600).default(30),
  maxEjectionSeconds: z.int().min(1).max(86_400).default(300),
  maxEjectionPercent: z.number().min(0).max(100).default(10),
  successRate: z
    .strictObject({
      enabled: z.boolean().default(true),
      minimumHosts: z.int().min(1).max(10_000).default(5),
      requestVolume: z.int().min(1).max(1_000_000).default(100),
      stdevFactor: z.number().min(0).max(100).default(1.9),
    })
    .prefault({}),
});
export type EjectionSettings = z.infer<typeof EjectionSettings>;

/** A service's availability settings; a service without any has the defaults. */
export const AvailabilitySettings = z.strictObject({
  slo: z.strictObject({ target: z.number().min(0.5).max(0.99999), windowDays: z.int().min(1).max(90).default(28) }).prefault({ target: 0.999 }),
  failStatuses: z.array(FailStatus).min(1).max(50).default(['5xx']),
  ejection: EjectionSettings.prefault({}),
});
export type AvailabilitySettings = z.infer<typeof AvailabilitySettings>;
export type AvailabilitySettingsInput = z.input<typeof AvailabilitySettings>;

/** The defaults, parsed once. */
export const DEFAULT_AVAILABILITY_SETTINGS: AvailabilitySettings = AvailabilitySettings.parse({});

/** True when `status` counts as a failure under `fail` (codes and classes). */
export function isFailure(status: number, fail: readonly string[]): boolean {
  const code = String(status);
  const cls = `${code[0]}xx`;
  for (const f of fail) if (f === code || f === cls) return true;
  return false;
}
