/**
 * One alert's life, decided from its last state, whether its conditions hold now, and the clock:
 * pending until held for `forSeconds` (Prometheus `for`), firing, recovering until clear for
 * `recoverySeconds`, resolved. What to send is a separate decision: the first notice when it fires,
 * repeats every `repeatIntervalSeconds` up to `maxNotifications` until acknowledged, one escalation
 * when unacknowledged for `escalation.afterMinutes`, and the recovery when asked for. A silenced
 * alert is judged the same but told to nobody.
 */
import type { ActiveWindow, AlertRuleSpec } from './schema.ts';

export type Phase = 'pending' | 'firing' | 'recovering';

/** What an evaluator keeps per live alert. */
export interface AlertLife {
  phase: Phase;
  /** When the conditions first held. */
  startedMs: number;
  /** When it fired (pending: undefined). */
  firedMs?: number;
  /** When it last stopped holding while firing. */
  clearMs?: number;
}

/** `fired`: now firing (from pending or straight away); `resolved`: over; `cleared`: pending that never fired. */
export type Transition = 'pending' | 'fired' | 'resolved' | 'cleared' | undefined;

/** The next life of an alert (undefined: none) and the transition taken. */
export function alertStep(prev: AlertLife | undefined, holds: boolean, nowMs: number, rule: Pick<AlertRuleSpec, 'forSeconds' | 'recoverySeconds'>): { life: AlertLife | undefined; transition: Transition } {
  if (!prev) {
    if (!holds) return { life: undefined, transition: undefined };
    if (rule.forSeconds === 0) return { life: { phase: 'firing', startedMs: nowMs, firedMs: nowMs }, transition: 'fired' };
    return { life: { phase: 'pending', startedMs: nowMs }, transition: 'pending' };
  }
  switch (prev.phase) {
    case 'pending':
      if (!holds) return { life: undefined, transition: 'cleared' };
      if (nowMs - prev.startedMs >= rule.forSeconds * 1000) return { life: { phase: 'firing', startedMs: prev.startedMs, firedMs: nowMs }, transition: 'fired' };
      return { life: prev, transition: undefined };
    case 'firing':
      if (holds) return { life: prev, transition: undefined };
      if (rule.recoverySeconds === 0) return { life: undefined, transition: 'resolved' };
      return { life: { ...prev, phase: 'recovering', clearMs: nowMs }, transition: undefined };
    case 'recovering': {
      if (holds) {
        const { clearMs: _, ...rest } = prev;
        return { life: { ...rest, phase: 'firing' }, transition: undefined };
      }
      if (nowMs - (prev.clearMs ?? nowMs) >= rule.recoverySeconds * 1000) return { life: undefined, transition: 'resolved' };
      return { life: prev, transition: undefined };
    }
  }
}

/** What a firing alert has been told so far. */
export interface Told {
  /** Firing notices sent (the first and repeats). */
  count: number;
  lastMs: number | null;
  escalated: boolean;
  acked: boolean;
  silenced: boolean;
}

/** The notice a firing alert is due now, if any. */
export function dueNotice(firedMs: number, told: Told, nowMs: number, rule: Pick<AlertRuleSpec, 'maxNotifications' | 'repeatIntervalSeconds' | 'escalation'>): 'firing' | 'repeat' | 'escalation' | undefined {
  if (told.silenced) return undefined;
  if (told.count === 0) return 'firing';
  if (told.acked) return undefined;
  if (rule.escalation && !told.escalated && nowMs - firedMs >= rule.escalation.afterMinutes * 60_000) return 'escalation';
  if (told.count < rule.maxNotifications && told.lastMs !== null && nowMs - told.lastMs >= rule.repeatIntervalSeconds * 1000) return 'repeat';
  return undefined;
}

/** Recovery is told only to those told it fired, when the rule asks for it and nothing silences it. */
export function recoveryDue(told: Told, rule: Pick<AlertRuleSpec, 'notifyRecovery'>): boolean {
  return rule.notifyRecovery && told.count > 0 && !told.silenced;
}

const DAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** True when `nowMs` falls in the window: its day and time in the window's zone; an end before the start spans midnight. */
export function inWindow(w: ActiveWindow | undefined, nowMs: number): boolean {
  if (!w) return true;
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: w.timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(nowMs);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  const day = DAYS[get('weekday')] ?? 0;
  const minute = Number(get('hour')) * 60 + Number(get('minute'));
  const toMin = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  const start = toMin(w.start);
  const end = toMin(w.end);
  if (start <= end) return w.days.includes(day) && minute >= start && minute < end;
  // Overnight: the part after midnight belongs to the day the window opened.
  if (minute >= start) return w.days.includes(day);
  return minute < end && w.days.includes((day + 6) % 7);
}
