/** The Monitoring tab's pure parts: how rules, alerts and silences read, and the forms' shapes. */
import type { AlertView } from '@canopy/core';

export interface Condition {
  metric: string;
  fn: string;
  op: string;
  threshold: number;
  match?: Record<string, string>;
}

/** One rule in force on a node, as GET /nodes/{path}/alert-rules gives it. */
export interface EffectiveRule {
  name: string;
  origin: string;
  inherited: boolean;
  overrides: string[];
  disabled: boolean;
  description: string;
  severity: 'critical' | 'warning' | 'info';
  conditions: Condition[];
  summary: string;
  forSeconds: number;
  recoverySeconds: number;
  receivers: string[];
  activeWindow?: { days: number[]; start: string; end: string; timezone: string };
}

export interface RulesView {
  node: string;
  own: EffectiveRule[];
  effective: EffectiveRule[];
}

export interface SilenceView {
  id: number;
  node: string;
  rule: string | null;
  machine: string | null;
  match: Record<string, string>;
  startsAt: string;
  endsAt: string;
  comment: string;
  createdBy: string;
}

export type Alert = AlertView;

export const SEVERITY_COLOR: Record<string, string> = { critical: 'red', warning: 'orange', info: 'blue' };
export const STATE_COLOR: Record<string, string> = { firing: 'red', pending: 'gold', resolved: 'green' };

function labelText(m: Record<string, string> | undefined): string {
  const keys = Object.keys(m ?? {}).sort();
  return keys.length === 0 ? '' : `{${keys.map((k) => `${k}="${m![k]}"`).join(',')}}`;
}

/** `all(#3) disk_used_percent{mountpoint="/"} > 90 AND …` */
export function conditionsText(cs: readonly Condition[]): string {
  return cs.map((c) => `${c.fn} ${c.metric}${labelText(c.match)} ${c.op} ${c.threshold}`).join(' AND ');
}

/** Where a rule comes from, as the table says it. */
export function originText(r: Pick<EffectiveRule, 'inherited' | 'origin' | 'overrides'>): string {
  const from = r.inherited ? `from ${r.origin}` : 'set here';
  return r.overrides.length > 0 ? `${from}, overrides ${r.overrides.join(', ')}` : from;
}

/** `{k=v,…}` for a label map, '' when empty. */
export function labelsText(m: Record<string, string>): string {
  return labelText(m).replaceAll('"', '');
}

/** A silence's scope in one line. */
export function silenceScope(s: SilenceView): string {
  return [`node ${s.node}`, s.rule ? `rule ${s.rule}` : 'every rule', s.machine ? `machine ${s.machine}` : 'every machine', labelsText(s.match)].filter((x) => x !== '').join(', ');
}

/** The rule editor's starting text: the rule as the API takes it (PUT body), without the view's fields. */
export function ruleBody(r: EffectiveRule | undefined): string {
  if (!r) {
    return JSON.stringify({ conditions: [{ metric: 'node_load1', fn: 'avg(#3)', op: '>', threshold: 8 }], severity: 'warning', summary: 'load {{value}} on {{machines}}', forSeconds: 60, receivers: [] }, null, 2);
  }
  const { name: _n, origin: _o, inherited: _i, overrides: _v, ...spec } = r as EffectiveRule & Record<string, unknown>;
  for (const k of ['updatedBy', 'updatedAt']) delete (spec as Record<string, unknown>)[k];
  return JSON.stringify(spec, null, 2);
}

/** Parse the editor's text; the reason as a string when it is not a JSON object. */
export function parseRuleBody(text: string): Record<string, unknown> | string {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : 'the rule must be a JSON object';
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
}

/** The rule editor's form: the fields most rules need; the rest of the rule is kept as it was. */
export interface RuleForm {
  conditions: { metric: string; match: string; fn: string; op: string; threshold: number | null }[];
  severity: EffectiveRule['severity'];
  summary: string;
  forSeconds: number | null;
  receivers: string[];
}

export const RULE_OPERATORS = ['>', '>=', '<', '<=', '==', '!='] as const;

/** `mountpoint=/, fstype=ext4` for a label filter. */
export function matchText(m: Record<string, string> | undefined): string {
  return Object.entries(m ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');
}

/** A label filter from `k=v, k2=v2` (empty: none); the reason as a string when a part is not k=v. */
export function parseMatch(text: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const i = part.indexOf('=');
    if (i <= 0) return `labels: "${part}" is not label=value`;
    out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

/** The form's fields of a rule's PUT body. */
export function ruleFormOf(body: Record<string, unknown>): RuleForm {
  const conditions = Array.isArray(body['conditions']) ? (body['conditions'] as Condition[]) : [];
  return {
    conditions: conditions.map((c) => ({ metric: c.metric ?? '', match: matchText(c.match), fn: c.fn ?? 'all(#1)', op: c.op ?? '>', threshold: typeof c.threshold === 'number' ? c.threshold : null })),
    severity: (body['severity'] as RuleForm['severity'] | undefined) ?? 'warning',
    summary: typeof body['summary'] === 'string' ? body['summary'] : '',
    forSeconds: typeof body['forSeconds'] === 'number' ? body['forSeconds'] : null,
    receivers: Array.isArray(body['receivers']) ? (body['receivers'] as string[]) : [],
  };
}

/** The PUT body: the form over `base` (fields it does not show kept); the reason as a string when it is incomplete. */
export function ruleFromForm(form: RuleForm, base: Record<string, unknown>): Record<string, unknown> | string {
  if (form.conditions.length === 0) return 'a rule needs a condition';
  const conditions: Condition[] = [];
  for (const [i, c] of form.conditions.entries()) {
    const what = `condition ${i + 1}`;
    if (c.metric.trim() === '') return `${what}: name the metric`;
    if (c.threshold === null) return `${what}: give a threshold`;
    const match = parseMatch(c.match);
    if (typeof match === 'string') return `${what}: ${match}`;
    conditions.push({ metric: c.metric.trim(), fn: c.fn.trim(), op: c.op, threshold: c.threshold, ...(Object.keys(match).length > 0 ? { match } : {}) });
  }
  const { disabled: _d, ...rest } = base;
  return { ...rest, conditions, severity: form.severity, summary: form.summary, forSeconds: form.forSeconds ?? 0, receivers: form.receivers };
}
