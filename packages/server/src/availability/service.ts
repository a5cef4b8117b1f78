/**
 * Availability's domain: counts from the agents' access logs (ingest.ts), the read model every
 * replica keeps (model.ts), SLOs per service, outlier detection and ejection (ejector.ts), and the
 * `access-log` document that tells nginx machines what to tail (doc.ts). No HTTP here.
 */
import { AvailabilitySettings, BACKEND_EJECTED_METRIC, DEFAULT_AVAILABILITY_SETTINGS, NotFoundError, SLO_BURN_METRIC, detectInterval, type AvailabilitySettingsInput, type SloStatus } from '@canopy/core';
import type { Actor, ChangeFeed, Writer } from '../changes/index.ts';
import { SYSTEM_ACTOR } from '../changes/index.ts';
import type { Queryable } from '../db/connection.ts';
import type { Dispatcher } from '../agents/index.ts';
import type { DiscoveryService } from '../discovery/index.ts';
import { MACHINE_TOPIC, type MachineService } from '../machines/index.ts';
import { NGINX_TOPIC, type NginxService } from '../nginx/index.ts';
import { TREE_TOPIC, type TreeService } from '../tree/index.ts';
import { accessLogDoc } from './doc.ts';
import { AVAILABILITY_TOPIC, createEjector, type DrainAction } from './ejector.ts';
import { createIngest } from './ingest.ts';
import { FINE_KEEP_MS, FINE_MS, HOURLY_KEEP_MS, createAvailabilityModel, type CountedSeries } from './model.ts';
import * as repo from './repo.ts';
import { figures, serviceAvailability, serviceSlo, type ServiceAvailability } from './views.ts';

export const ACCESS_DOC = 'access-log';
export const ACCESS_STREAM = 'access';

export interface AvailabilityDeps {
  writer: Writer;
  feed: ChangeFeed;
  db: Queryable;
  tree: TreeService;
  machines: MachineService;
  nginx: NginxService;
  discovery: DiscoveryService;
  dispatcher: Dispatcher;
  clock?: () => number;
  onError?: (err: unknown) => void;
}

type Change =
  | { kind: 'counts'; source: string; machineId: number; seq: number; from: number; to: number; series: CountedSeries[]; runs: [string, number][] }
  | { kind: 'outlier'; nodeId: number; backend: string; ejected: boolean; count: number; ejectedAt: number; until: number; hostname: string | null; port: number | null; fresh: boolean }
  | { kind: 'interval'; nodeId: number; at: number }
  | { kind: 'settings'; nodeId: number; settings: AvailabilitySettings | null };

export type AvailabilityService = ReturnType<typeof createAvailabilityService>;

/** Build availability and follow the change feed. */
export function createAvailabilityService(deps: AvailabilityDeps) {
  const { writer, feed, tree, discovery } = deps;
  const clock = deps.clock ?? Date.now;
  const onError = deps.onError ?? (() => {});
  const model = createAvailabilityModel();
  const settings = new Map<number, AvailabilitySettings>();
  const settingsOf = (nodeId: number) => settings.get(nodeId) ?? DEFAULT_AVAILABILITY_SETTINGS;
  const ejector = createEjector({ model, discovery, tree, settingsOf, log: (m) => onError(new Error(m)) });
  const ingest = createIngest({ writer, tree, model, ejector, settingsOf, clock, onError });
  let tickTimer: NodeJS.Timeout | undefined;
  let pruneTimer: NodeJS.Timeout | undefined;
  let docTimer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;

  function apply(c: Change): void {
    switch (c.kind) {
      case 'counts': {
        const src = model.sources.get(c.source);
        if (src && src.lastSeq >= c.seq) return;
        model.sources.set(c.source, { machineId: c.machineId, lastSeq: c.seq, lastFrom: c.from, lastTo: c.to });
        model.add(c.from, c.series, (id) => settingsOf(id).failStatuses);
        for (const [k, run] of c.runs) model.runs.set(k, run);
        return;
      }
      case 'outlier': {
        model.outliers.set(`${c.nodeId} ${c.backend}`, { nodeId: c.nodeId, backend: c.backend, ejected: c.ejected, count: c.count, ejectedAt: c.ejectedAt, until: c.until, hostname: c.hostname, port: c.port });
        // Envoy resets the consecutive counter on ejection; 5xx still in flight then are not held against the return either.
        if (c.fresh) for (const k of model.runs.keys()) if (k.endsWith(` ${c.nodeId} ${c.backend}`)) model.runs.set(k, 0);
        return;
      }
      case 'interval':
        model.lastInterval.set(c.nodeId, c.at);
        model.interval.delete(c.nodeId);
        return;
      case 'settings':
        if (c.settings) settings.set(c.nodeId, c.settings);
        else settings.delete(c.nodeId);
        return;
    }
  }
  feed.on(AVAILABILITY_TOPIC, (c) => apply(c.payload as Change));

  // The document follows the nginx settings, machine bindings and renames; refreshDoc sends only changes.
  const refreshDocs = () => {
    clearTimeout(docTimer);
    docTimer = setTimeout(() => void deps.dispatcher.refreshDoc(ACCESS_DOC).catch(onError), 100);
  };
  for (const topic of [NGINX_TOPIC, MACHINE_TOPIC, TREE_TOPIC]) feed.on(topic, refreshDocs);
  deps.dispatcher.provideDoc(ACCESS_DOC, (machineId) => accessLogDoc(deps, machineId));
  deps.dispatcher.onPush(ACCESS_STREAM, (from, data) => ingest.take(from, data));

  /** Services due for the interval check: something to count, return or cool. */
  function due(now: number): number[] {
    const nodes = new Set<number>(model.interval.keys());
    for (const o of model.outliers.values()) if (o.ejected || o.count > 0) nodes.add(o.nodeId);
    return [...nodes].filter((id) => now - (model.lastInterval.get(id) ?? 0) >= settingsOf(id).ejection.intervalSeconds * 1000);
  }

  function tick(): Promise<void> {
    ticking ??= evaluate().finally(() => (ticking = undefined));
    return ticking;
  }

  async function evaluate(): Promise<void> {
    try {
      if (due(clock()).length === 0) return;
      const actions = await writer.run(SYSTEM_ACTOR, async (w) => {
        const now = clock();
        const out: DrainAction[] = [];
        for (const nodeId of due(now)) {
          const path = tree.model.get(nodeId)?.path;
          w.emit(AVAILABILITY_TOPIC, { kind: 'interval', nodeId, at: now });
          if (!path) continue;
          const counts = model.interval.get(nodeId);
          const h = ejector.hosts(nodeId, path, (key) => {
            const c = counts?.get(key);
            return c ? { total: c.total, succeeded: c.succeeded } : {};
          });
          const answers = (key: string) => h.byKey.get(key)?.health !== 'critical';
          const decisions = detectInterval(h.hosts, settingsOf(nodeId).ejection, ejector.protectThreshold(path), now, answers);
          out.push(...(await ejector.apply(w, nodeId, path, h.byKey, decisions)));
        }
        return out;
      });
      await ejector.carryOut([...actions, ...ejector.reconcile()]);
    } catch (err) {
      onError(err);
    }
  }

  function nodeOf(path: string) {
    const n = tree.model.byPath(path);
    if (!n) throw new NotFoundError('node', path);
    return n;
  }

  // A service's SLO status, computed once a second however many machines ask (the evaluator does, per machine).
  const sloCache = new Map<number, { at: number; slo: SloStatus }>();
  function sloOf(nodeId: number): SloStatus {
    const t = clock();
    const hit = sloCache.get(nodeId);
    if (hit && t - hit.at < 1000) return hit.slo;
    const slo = serviceSlo(model, nodeId, settingsOf(nodeId), t);
    sloCache.set(nodeId, { at: t, slo });
    return slo;
  }

  const instancesOf = (path: string) => (discovery.resolve(path, { healthyOnly: false })?.instances ?? []).map((i) => ({ hostname: i.hostname, ip: i.ip, port: i.port }));

  return {
    model,
    /** A service's availability over the last `windowMs`. */
    service(path: string, windowMs: number): ServiceAvailability {
      const n = nodeOf(path);
      return serviceAvailability(model, n.id, n.path, settingsOf(n.id), windowMs, clock(), instancesOf(n.path));
    },
    /** Services under `under` with counts or settings, each summarised. */
    list(under: string, windowMs: number, visible: (nodeId: number) => boolean) {
      const now = clock();
      const ids = new Set([...model.nodes(), ...settings.keys()]);
      const items = [];
      for (const id of ids) {
        const n = tree.model.get(id);
        if (!n || !(n.path === under || n.path.startsWith(`${under}.`) || under === '') || !visible(id)) continue;
        const s = settingsOf(id);
        const t = model.totals(id, { windowMs, now, fail: s.failStatuses });
        const ejected = [...model.outliers.values()].filter((o) => o.nodeId === id && o.ejected).length;
        items.push({ path: n.path, ...figures(t, windowMs), sloTarget: s.slo.target, ejected });
      }
      return items.sort((a, b) => (a.path < b.path ? -1 : 1));
    },
    /**
     * For a deployment's monitor window: the answers of the service at `nodeId` counted in the 10 s
     * buckets that began at or after `fromMs` (one begun before holds answers from before), and its
     * SLO target.
     */
    during(nodeId: number, fromMs: number, now: number): { total: number; failed: number; target: number } {
      const s = settingsOf(nodeId);
      const start = Math.ceil(fromMs / FINE_MS) * FINE_MS;
      if (start > now) return { total: 0, failed: 0, target: s.slo.target };
      const t = model.totals(nodeId, { windowMs: now - start, now, fail: s.failStatuses });
      return { total: t.total, failed: t.failed, target: s.slo.target };
    },
    /**
     * The alert evaluator's synthetic series on machine `machineId`: `canopy_backend_ejected` per
     * backend on it that ejection knows of, `canopy_slo_burn_alert` per burn-rate alert of every
     * service whose node it is bound at or below. Undefined for any other metric.
     */
    builtinSeries(metric: string, machineId: number): { labels: Record<string, string>; value: number }[] | undefined {
      const m = deps.machines.model.get(machineId);
      if (metric === BACKEND_EJECTED_METRIC) {
        const out = [];
        for (const o of model.outliers.values()) {
          const path = tree.model.get(o.nodeId)?.path;
          if (m && o.hostname === m.hostname && path !== undefined) out.push({ labels: { service: path, backend: o.backend }, value: o.ejected ? 1 : 0 });
        }
        return out;
      }
      if (metric !== SLO_BURN_METRIC) return undefined;
      const paths = (m?.nodeIds ?? []).map((id) => tree.model.get(id)?.path).filter((p): p is string => p !== undefined);
      const out = [];
      for (const id of model.nodes()) {
        const svc = tree.model.get(id);
        if (!svc || !paths.some((p) => p === svc.path || p.startsWith(`${svc.path}.`))) continue;
        for (const a of sloOf(id).alerts) out.push({ labels: { service: svc.path, alert: a.name, severity: a.severity }, value: a.firing ? 1 : 0 });
      }
      return out;
    },
    settings(path: string): { settings: AvailabilitySettings; custom: boolean } {
      const n = nodeOf(path);
      return { settings: settingsOf(n.id), custom: settings.has(n.id) };
    },
    async putSettings(actor: Actor, path: string, input: AvailabilitySettingsInput): Promise<AvailabilitySettings> {
      const parsed = AvailabilitySettings.parse(input);
      await writer.run(actor, async (w) => {
        const n = tree.node(path);
        const before = settings.get(n.id);
        await repo.putSettings(w.tx, n.id, parsed);
        w.audit({ operation: 'availability.settings.update', targetKind: 'node', target: n.path, nodeId: n.id, nodePath: n.path, before, after: parsed });
        w.emit(AVAILABILITY_TOPIC, { kind: 'settings', nodeId: n.id, settings: parsed });
      });
      return parsed;
    },
    async deleteSettings(actor: Actor, path: string): Promise<void> {
      await writer.run(actor, async (w) => {
        const n = tree.node(path);
        const before = settings.get(n.id);
        if (!(await repo.deleteSettings(w.tx, n.id))) throw new NotFoundError('availability settings', path);
        w.audit({ operation: 'availability.settings.delete', targetKind: 'node', target: n.path, nodeId: n.id, nodePath: n.path, before });
        w.emit(AVAILABILITY_TOPIC, { kind: 'settings', nodeId: n.id, settings: null });
      });
    },
    async ejections(path: string, limit: number) {
      const n = nodeOf(path);
      const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());
      return (await repo.listEjections(deps.db, n.id, limit)).map((e) => ({ ...e, ejectedAt: iso(e.ejectedAt)!, untilAt: iso(e.untilAt)!, returnedAt: iso(e.returnedAt), path: n.path }));
    },
    /** Agents pushing counts: what each sent last. */
    sources() {
      return [...model.sources].map(([source, s]) => ({ source, machineId: s.machineId, hostname: deps.machines.model.get(s.machineId)?.hostname ?? null, lastSeq: s.lastSeq, lastFrom: new Date(s.lastFrom).toISOString(), lastTo: new Date(s.lastTo).toISOString() }));
    },
    async load(q: Queryable): Promise<void> {
      const now = clock();
      for (const r of await repo.loadCounts(q, now - FINE_KEEP_MS, now - HOURLY_KEEP_MS)) model.loadRow(r.nodeId, r.domain, r.location, r.backend, r.tier, r.bucket, r.cell);
      for (const s of await repo.loadSources(q)) model.sources.set(s.source, s);
      for (const s of await repo.loadSettings(q)) {
        const p = AvailabilitySettings.safeParse(s.settings);
        if (p.success) settings.set(s.nodeId, p.data);
      }
      for (const o of await repo.loadOutliers(q)) model.outliers.set(`${o.nodeId} ${o.backend}`, o);
    },
    start(): void {
      tickTimer = setInterval(() => void tick(), 1000);
      pruneTimer = setInterval(() => {
        const now = clock();
        model.prune(now);
        void writer.run(SYSTEM_ACTOR, (w) => repo.pruneCounts(w.tx, now - FINE_KEEP_MS, now - HOURLY_KEEP_MS)).catch(onError);
      }, 5 * 60_000);
      tickTimer.unref?.();
      pruneTimer.unref?.();
    },
    async stop(): Promise<void> {
      clearInterval(tickTimer);
      clearInterval(pruneTimer);
      clearTimeout(docTimer);
      await ticking;
      await ingest.drain();
    },
    /** Run the interval check now (tests). */
    tick,
    /** The `access` push handler (the dispatcher calls it; tests too). */
    take: ingest.take,
  };
}
