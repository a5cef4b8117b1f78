/**
 * Outlier detection with Envoy's semantics (envoy.config.cluster.v3.OutlierDetection): a backend is
 * ejected after N consecutive 5xx, or when its success rate in an interval falls below the mean of
 * the hosts with enough requests minus k standard deviations (needing enough such hosts). An
 * ejection lasts base × (times ejected), capped; each interval a host spends in service lowers
 * that multiplier again. Never more than the max share is ejected (at least one may be), and never
 * so many that the service's serving share falls below its protect threshold. Pure: the caller
 * keeps the states and carries out the decisions.
 */
import type { EjectionSettings } from './schema.ts';

/** What detection remembers of one backend. */
export interface OutlierState {
  ejected: boolean;
  /** Times ejected, lowered by one per interval in service (Envoy's ejection multiplier). */
  count: number;
  ejectedAt: number;
  /** When the ejection may end. */
  until: number;
}

/** One backend of a service as detection sees it. */
export interface OutlierHost {
  key: string;
  state: OutlierState;
  /** Serving in discovery apart from an ejection (up, not critical). */
  available: boolean;
  /** Counts from the last interval (success-rate check). */
  total?: number;
  succeeded?: number;
  /** Longest run of consecutive 5xx just seen (consecutive check). */
  maxStreak?: number;
}

export type OutlierDecision =
  | { kind: 'eject'; key: string; reason: 'consecutive-5xx' | 'success-rate'; detail: string; state: OutlierState }
  | { kind: 'return'; key: string; state: OutlierState }
  | { kind: 'spared'; key: string; reason: string }
  | { kind: 'cool'; key: string; state: OutlierState };

/** A host never seen by detection. */
export const FRESH: OutlierState = { ejected: false, count: 0, ejectedAt: 0, until: 0 };

function ejectionMs(s: EjectionSettings, count: number): number {
  return Math.min(s.baseEjectionSeconds * count, Math.max(s.baseEjectionSeconds, s.maxEjectionSeconds)) * 1000;
}

/** Ejection gate: the max share (at least one host) and the protect threshold. */
function gate(hosts: readonly OutlierHost[], s: EjectionSettings, protectThreshold: number): (key: string) => string | undefined {
  const n = hosts.length;
  let ejected = hosts.filter((h) => h.state.ejected).length;
  let serving = hosts.filter((h) => h.available && !h.state.ejected).length;
  const allowed = Math.max(1, Math.floor((n * s.maxEjectionPercent) / 100));
  return (key) => {
    const h = hosts.find((x) => x.key === key);
    if (!h || h.state.ejected) return 'already ejected';
    if (ejected >= allowed) return `max ejection ${s.maxEjectionPercent}% reached (${ejected} of ${n})`;
    const after = serving - (h.available ? 1 : 0);
    if (n > 0 && after / n < protectThreshold) return `would leave ${after} of ${n} serving, below the protect threshold ${protectThreshold}`;
    ejected++;
    if (h.available) serving--;
    return undefined;
  };
}

function ejectDecision(h: OutlierHost, s: EjectionSettings, now: number, reason: 'consecutive-5xx' | 'success-rate', detail: string): OutlierDecision {
  const count = h.state.count + 1;
  return { kind: 'eject', key: h.key, reason, detail, state: { ejected: true, count, ejectedAt: now, until: now + ejectionMs(s, count) } };
}

/** Consecutive-5xx check, run as counts arrive: Envoy ejects on the Nth 5xx, not at the interval. */
export function detectConsecutive(hosts: readonly OutlierHost[], s: EjectionSettings, protectThreshold: number, now: number): OutlierDecision[] {
  if (!s.enabled || s.consecutive5xx === 0) return [];
  const out: OutlierDecision[] = [];
  const admit = gate(hosts, s, protectThreshold);
  for (const h of hosts) {
    if (h.state.ejected || (h.maxStreak ?? 0) < s.consecutive5xx) continue;
    const refused = admit(h.key);
    if (refused === undefined) out.push(ejectDecision(h, s, now, 'consecutive-5xx', `${h.maxStreak} consecutive 5xx`));
    else out.push({ kind: 'spared', key: h.key, reason: refused });
  }
  return out;
}

/**
 * The interval's work: ejections that ended return (when `answers` says the host answers again),
 * hosts in service cool their multiplier, then the success-rate check.
 */
export function detectInterval(hosts: readonly OutlierHost[], s: EjectionSettings, protectThreshold: number, now: number, answers: (key: string) => boolean = () => true): OutlierDecision[] {
  const out: OutlierDecision[] = [];
  const current = hosts.map((h) => ({ ...h }));
  for (const h of current) {
    if (h.state.ejected) {
      if (now >= h.state.until && answers(h.key)) {
        h.state = { ...h.state, ejected: false };
        out.push({ kind: 'return', key: h.key, state: h.state });
      }
    } else if (h.state.count > 0) {
      h.state = { ...h.state, count: h.state.count - 1 };
      out.push({ kind: 'cool', key: h.key, state: h.state });
    }
  }
  if (!s.enabled || !s.successRate.enabled) return out;
  const sr = s.successRate;
  const volume = current.filter((h) => !h.state.ejected && (h.total ?? 0) >= sr.requestVolume);
  if (volume.length < sr.minimumHosts) return out;
  const rates = volume.map((h) => (h.succeeded ?? 0) / (h.total ?? 1));
  const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
  const sd = Math.sqrt(rates.reduce((a, r) => a + (r - mean) ** 2, 0) / rates.length);
  const threshold = mean - sr.stdevFactor * sd;
  const admit = gate(current, s, protectThreshold);
  volume.forEach((h, i) => {
    const rate = rates[i]!;
    if (rate >= threshold) return;
    const detail = `success rate ${(rate * 100).toFixed(2)}% < ${(threshold * 100).toFixed(2)}% (mean ${(mean * 100).toFixed(2)}% − ${sr.stdevFactor}σ)`;
    const refused = admit(h.key);
    if (refused === undefined) out.push(ejectDecision(h, s, now, 'success-rate', detail));
    else out.push({ kind: 'spared', key: h.key, reason: refused });
  });
  return out;
}

/**
 * Join a backend's runs of consecutive 5xx from one window (`lead`, `longest`, `trail`, out of
 * `attempts`) onto the run it ended the last one with: the longest run now and the one going on.
 */
export function joinRuns(prev: number, runs: { lead: number; longest: number; trail: number }, attempts: number): { longest: number; run: number } {
  if (attempts > 0 && runs.lead >= attempts) return { longest: prev + runs.lead, run: prev + runs.lead };
  // With no leading 5xx the earlier run ended before this window, and was reported with its own.
  return { longest: Math.max(runs.lead > 0 ? prev + runs.lead : 0, runs.longest), run: runs.trail };
}
