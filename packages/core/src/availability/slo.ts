/**
 * SLOs over counted requests: availability, error budget left and the SRE workbook's multi-window,
 * multi-burn-rate alerts (chapter 5, table 5-8): page at 14.4× over 1 h and 5 m, page at 6× over
 * 6 h and 30 m, ticket at 1× over 3 d and 6 h. Both windows must burn that fast, so an alert fires
 * fast on a real outage and stops soon after it ends.
 */

/** Requests and failures in a window. */
export interface Tally {
  total: number;
  failed: number;
}

/** One burn-rate alert of the workbook. */
export interface BurnRule {
  name: string;
  severity: 'page' | 'ticket';
  burnRate: number;
  longMs: number;
  shortMs: number;
}

const MIN = 60_000;
const HOUR = 60 * MIN;

/** The workbook's recommended alerts. */
export const BURN_RULES: readonly BurnRule[] = [
  { name: '14.4x-1h-5m', severity: 'page', burnRate: 14.4, longMs: HOUR, shortMs: 5 * MIN },
  { name: '6x-6h-30m', severity: 'page', burnRate: 6, longMs: 6 * HOUR, shortMs: 30 * MIN },
  { name: '1x-3d-6h', severity: 'ticket', burnRate: 1, longMs: 72 * HOUR, shortMs: 6 * HOUR },
];

/** Share of requests that succeeded; null without requests. */
export function availabilityOf(t: Tally): number | null {
  return t.total === 0 ? null : (t.total - t.failed) / t.total;
}

/** How many times faster than the SLO allows the budget burns (1: it lasts exactly the window). */
export function burnRate(t: Tally, target: number): number {
  if (t.total === 0) return 0;
  return t.failed / t.total / (1 - target);
}

export interface BurnAlert extends BurnRule {
  firing: boolean;
  longBurn: number;
  shortBurn: number;
}

export interface SloStatus {
  target: number;
  windowDays: number;
  availability: number | null;
  total: number;
  failed: number;
  /** Failures the window allows at its traffic so far. */
  budget: number;
  /** Share of the budget not spent yet (1 untouched, 0 spent, negative overspent); null without requests. */
  budgetLeft: number | null;
  alerts: BurnAlert[];
}

/** The SLO status given a way to count any window ending now. */
export function sloStatus(target: number, windowDays: number, tally: (windowMs: number) => Tally): SloStatus {
  const all = tally(windowDays * 24 * HOUR);
  const budget = all.total * (1 - target);
  const alerts = BURN_RULES.map((r) => {
    const longBurn = burnRate(tally(r.longMs), target);
    const shortBurn = burnRate(tally(r.shortMs), target);
    return { ...r, longBurn, shortBurn, firing: longBurn >= r.burnRate && shortBurn >= r.burnRate };
  });
  return {
    target,
    windowDays,
    availability: availabilityOf(all),
    total: all.total,
    failed: all.failed,
    budget,
    budgetLeft: all.total === 0 ? null : budget === 0 ? (all.failed === 0 ? 1 : -Infinity) : 1 - all.failed / budget,
    alerts,
  };
}
