/**
 * One notification: every alert of one rule on one node that changed within the grouping window,
 * so forty machines losing power are one message naming forty. Rendered once as text (the
 * receiver's template or Canopy's default), then wrapped in the robot's own JSON shape.
 */

export const TEMPLATE_VARIABLES = ['status', 'rule', 'severity', 'node', 'origin', 'count', 'machines', 'summary', 'value', 'startedAt', 'escalation'] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

export const NOTICE_KINDS = ['firing', 'repeat', 'escalation', 'resolved'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

export interface NoticeAlert {
  id: number;
  machine: string;
  labels: Record<string, string>;
  value: number | null;
  startedAt: string;
}

/** What a receiver is told. */
export interface Notice {
  kind: NoticeKind;
  rule: string;
  severity: string;
  /** The node the alerts are grouped by. */
  node: string;
  /** Where the rule is set. */
  origin: string;
  summary: string;
  alerts: NoticeAlert[];
  source: 'canopy' | 'prometheus';
}

/** At most this many machines are named in a message's text; the count is always exact. */
const NAMED_MAX = 50;

function labelText(labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  return keys.length === 0 ? '' : `{${keys.map((k) => `${k}=${labels[k]}`).join(',')}}`;
}

function machinesText(n: Notice): string {
  const names = n.alerts.slice(0, NAMED_MAX).map((a) => `${a.machine}${labelText(a.labels)}`);
  const more = n.alerts.length - names.length;
  return names.join(', ') + (more > 0 ? ` and ${more} more` : '');
}

/** The values a template may use. */
export function noticeVariables(n: Notice): Record<TemplateVariable, string> {
  const values = n.alerts.map((a) => a.value).filter((v): v is number => v !== null);
  const first = n.alerts.map((a) => a.startedAt).sort()[0] ?? '';
  return {
    status: n.kind === 'resolved' ? 'RESOLVED' : n.kind === 'escalation' ? 'ESCALATED' : 'FIRING',
    rule: n.rule,
    severity: n.severity,
    node: n.node,
    origin: n.origin,
    count: String(n.alerts.length),
    machines: machinesText(n),
    summary: n.summary,
    value: values.length === 0 ? '' : values.length === 1 ? String(values[0]) : `${Math.min(...values)}…${Math.max(...values)}`,
    startedAt: first,
    escalation: n.kind === 'escalation' ? 'unacknowledged' : '',
  };
}

/** Fill `{{variable}}`s; a summary's own variables are filled first. */
export function renderTemplate(template: string, vars: Record<TemplateVariable, string>): string {
  return template.replace(/\{\{\s*([a-zA-Z]+)\s*\}\}/g, (whole, name: string) => ((TEMPLATE_VARIABLES as readonly string[]).includes(name) ? vars[name as TemplateVariable] : whole));
}

export const DEFAULT_TEMPLATE = '[{{status}}] {{severity}} {{rule}} on {{node}}: {{count}} machine(s)\n{{summary}}\n{{machines}}';

/** The message text of `n`, with the receiver's template or the default. */
export function noticeText(n: Notice, template?: string): string {
  const vars = noticeVariables(n);
  vars.summary = renderTemplate(n.summary, vars);
  return renderTemplate(template ?? DEFAULT_TEMPLATE, vars)
    .split('\n')
    .filter((line, i, all) => line.trim() !== '' || (i > 0 && i < all.length - 1))
    .join('\n');
}
