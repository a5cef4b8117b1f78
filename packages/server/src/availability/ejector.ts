/**
 * Automatic ejection: outlier detection's decisions (core/availability/outlier.ts) carried out.
 * Decisions are taken inside the caller's write (the global write lock, read models caught up), so
 * however many replicas hear of the counts, a backend is ejected once. The drain itself goes
 * through discovery's public API after that write commits (nginx and LVS follow discovery), and
 * `reconcile` repeats any drain or return a crash in between left undone.
 */
import { FRESH, type AvailabilitySettings, type OutlierDecision, type OutlierHost, type OutlierState } from '@canopy/core';
import type { Actor, WriteContext } from '../changes/index.ts';
import type { DiscoveryService } from '../discovery/index.ts';
import type { TreeService } from '../tree/index.ts';
import type { AvailabilityModel } from './model.ts';
import * as repo from './repo.ts';

export const AVAILABILITY_TOPIC = 'availability';
export const EJECTOR_ACTOR: Actor = Object.freeze({ kind: 'system', id: null, name: 'availability', superuser: true });

/** A discovery change to make once the write committed. */
export interface DrainAction {
  path: string;
  hostname: string;
  port: number;
  status: 'draining' | 'up';
}

interface Instance {
  hostname: string;
  ip: string;
  port: number;
  status: string;
  health: string;
  bound: boolean;
}

export interface EjectorDeps {
  model: AvailabilityModel;
  discovery: DiscoveryService;
  tree: TreeService;
  settingsOf: (nodeId: number) => AvailabilitySettings;
  log?: (msg: string) => void;
}

/** Build the ejector over the model. */
export function createEjector(deps: EjectorDeps) {
  const { model, discovery, tree } = deps;

  function instances(path: string): Instance[] {
    return (discovery.resolve(path, { healthyOnly: false })?.instances ?? []).filter((i) => i.bound);
  }

  const stateOf = (nodeId: number, backend: string): OutlierState => model.outliers.get(`${nodeId} ${backend}`) ?? FRESH;

  /** The service's backends as detection sees them; counts and runs from `extra`. */
  function hosts(nodeId: number, path: string, extra: (backend: string) => Partial<OutlierHost>): { hosts: OutlierHost[]; byKey: Map<string, Instance> } {
    const byKey = new Map<string, Instance>();
    const list: OutlierHost[] = [];
    for (const i of instances(path)) {
      const key = `${i.ip}:${i.port}`;
      byKey.set(key, i);
      const state = stateOf(nodeId, key);
      // An instance this ejection drained counts as available (apart from the ejection); one an operator drained does not.
      const available = i.health !== 'critical' && (i.status === 'up' || (state.ejected && i.status === 'draining'));
      list.push({ key, state, available, ...extra(key) });
    }
    return { hosts: list, byKey };
  }

  function protectThreshold(path: string): number {
    try {
      return discovery.get(path).protectThreshold;
    } catch {
      return 0;
    }
  }

  /** Carry decisions out inside `w`; returns the discovery changes to make after commit. */
  async function apply(w: WriteContext, nodeId: number, path: string, byKey: Map<string, Instance>, decisions: OutlierDecision[]): Promise<DrainAction[]> {
    const actions: DrainAction[] = [];
    for (const d of decisions) {
      if (d.kind === 'spared') {
        model.spared.set(`${nodeId} ${d.key}`, { reason: d.reason, at: Date.now() });
        continue;
      }
      const i = byKey.get(d.key);
      const prev = model.outliers.get(`${nodeId} ${d.key}`);
      const hostname = i?.hostname ?? prev?.hostname ?? null;
      const port = i?.port ?? prev?.port ?? null;
      const row = { nodeId, backend: d.key, ...d.state, hostname, port };
      await repo.putOutlier(w.tx, row);
      w.emit(AVAILABILITY_TOPIC, { kind: 'outlier', ...row, fresh: d.kind !== 'cool' });
      const target = `${path}/${hostname ?? d.key}:${port ?? ''}`;
      if (d.kind === 'eject') {
        await repo.insertEjection(w.tx, { nodeId, backend: d.key, hostname, port, reason: d.reason, detail: d.detail, ejectedAt: d.state.ejectedAt, until: d.state.until });
        w.audit({ operation: 'availability.eject', targetKind: 'instance', target, nodeId, nodePath: path, after: { backend: d.key, reason: d.reason, detail: d.detail, until: new Date(d.state.until).toISOString(), ejections: d.state.count } });
        if (i && hostname && port !== null && i.status === 'up') actions.push({ path, hostname, port, status: 'draining' });
      } else if (d.kind === 'return') {
        await repo.markReturned(w.tx, nodeId, d.key);
        w.audit({ operation: 'availability.return', targetKind: 'instance', target, nodeId, nodePath: path, before: { ejectedAt: new Date(d.state.ejectedAt).toISOString() }, after: { backend: d.key } });
        if (i && hostname && port !== null && i.status === 'draining') actions.push({ path, hostname, port, status: 'up' });
      }
    }
    return actions;
  }

  return {
    hosts,
    protectThreshold,
    apply,
    /** After counts: the consecutive-5xx check on the services whose backends just failed in a row. */
    async consecutive(w: WriteContext, longest: Map<number, Map<string, number>>, now: number, detect: (hosts: OutlierHost[], s: AvailabilitySettings, protect: number) => OutlierDecision[]): Promise<DrainAction[]> {
      const out: DrainAction[] = [];
      for (const [nodeId, runs] of longest) {
        const path = tree.model.get(nodeId)?.path;
        if (!path) continue;
        const h = hosts(nodeId, path, (key) => ({ maxStreak: runs.get(key) ?? 0 }));
        const decisions = detect(h.hosts, deps.settingsOf(nodeId), protectThreshold(path));
        out.push(...(await apply(w, nodeId, path, h.byKey, decisions)));
      }
      void now;
      return out;
    },
    /**
     * Ejections whose instance is not in the state they should be (a crash between the decision
     * and the drain, or an instance re-registered): the changes that fix them.
     */
    reconcile(): DrainAction[] {
      const out: DrainAction[] = [];
      for (const o of model.outliers.values()) {
        if (!o.ejected || o.hostname === null || o.port === null) continue;
        const path = tree.model.get(o.nodeId)?.path;
        const i = path && instances(path).find((x) => x.hostname === o.hostname && x.port === o.port);
        if (path && i && i.status === 'up') out.push({ path, hostname: o.hostname, port: o.port, status: 'draining' });
      }
      return out;
    },
    /** Make the discovery changes (each its own audited write by discovery). */
    async carryOut(actions: readonly DrainAction[]): Promise<void> {
      for (const a of actions) {
        try {
          await discovery.putInstance(EJECTOR_ACTOR, a.path, a.hostname, a.port, { status: a.status });
        } catch (err) {
          deps.log?.(`availability: could not set ${a.path}/${a.hostname}:${a.port} ${a.status}: ${(err as Error).message}`);
        }
      }
    },
  };
}

export type Ejector = ReturnType<typeof createEjector>;
