/** Pure helpers of the Availability tab: figures as people read them, and the settings form. */
import type { AvailabilitySettings } from '@canopy/core';

export interface Figures {
  total: number;
  failed: number;
  availability: number | null;
  rate: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface BackendRow extends Figures {
  backend: string;
  hostname: string | null;
  ejected: boolean;
  ejectedUntil: string | null;
  ejections: number;
  spared: string | null;
}

export interface BurnAlert {
  name: string;
  severity: 'page' | 'ticket';
  burnRate: number;
  firing: boolean;
  longBurn: number;
  shortBurn: number;
}

export interface ServiceAvailability extends Figures {
  path: string;
  settings: AvailabilitySettings;
  slo: { target: number; windowDays: number; availability: number | null; total: number; failed: number; budgetLeft: number | null; alerts: BurnAlert[] };
  backends: BackendRow[];
  routes: (Figures & { domain: string; location: string })[];
}

export interface Ejection {
  id: number;
  hostname: string | null;
  backend: string;
  reason: string;
  detail: string;
  ejectedAt: string;
  untilAt: string;
  returnedAt: string | null;
}

/** `99.950%`, or `-` without requests. */
export function percent(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : `${(v * 100).toFixed(digits)}%`;
}

/** `12.3 ms`, or `-`. */
export function millis(v: number | null | undefined): string {
  return v === null || v === undefined ? '-' : v < 10 ? `${v.toFixed(2)} ms` : `${v.toFixed(0)} ms`;
}

/** Requests per second, readable. */
export function perSecond(v: number): string {
  return v >= 100 ? `${v.toFixed(0)}/s` : `${v.toFixed(2)}/s`;
}

/** The colour of an availability against its target: fine, close (budget going), breached. */
export function health(a: number | null, target: number): 'success' | 'normal' | 'exception' {
  if (a === null) return 'normal';
  if (a >= target) return 'success';
  return 'exception';
}

/** Error budget left as a 0–100 progress value (overspent shows as 0). */
export function budgetPercent(left: number | null): number {
  if (left === null || !Number.isFinite(left)) return left === null ? 100 : 0;
  return Math.max(0, Math.min(100, Math.round(left * 1000) / 10));
}

/** The settings form's flat values. */
export interface SettingsForm {
  target: number;
  windowDays: number;
  failStatuses: string;
  enabled: boolean;
  consecutive5xx: number;
  baseEjectionSeconds: number;
  maxEjectionPercent: number;
}

/** Settings → form. */
export function formOf(s: AvailabilitySettings): SettingsForm {
  return {
    target: s.slo.target * 100,
    windowDays: s.slo.windowDays,
    failStatuses: s.failStatuses.join(', '),
    enabled: s.ejection.enabled,
    consecutive5xx: s.ejection.consecutive5xx,
    baseEjectionSeconds: s.ejection.baseEjectionSeconds,
    maxEjectionPercent: s.ejection.maxEjectionPercent,
  };
}

/** Form → the PUT body, keeping the settings the form does not show. */
export function settingsOf(f: SettingsForm, current: AvailabilitySettings): AvailabilitySettings {
  return {
    slo: { target: Math.round(f.target * 1000) / 100_000, windowDays: f.windowDays },
    failStatuses: f.failStatuses.split(',').map((x) => x.trim()).filter(Boolean),
    ejection: { ...current.ejection, enabled: f.enabled, consecutive5xx: f.consecutive5xx, baseEjectionSeconds: f.baseEjectionSeconds, maxEjectionPercent: f.maxEjectionPercent },
  };
}
