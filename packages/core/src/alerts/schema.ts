/** Alert rules, receivers, silences and alerts as the API takes and gives them. */
import { z } from 'zod';
import { Hostname, NodePath, safeText } from '../schemas/common.ts';
import { OPERATORS, functionText, parseFunction } from './functions.ts';
import { TEMPLATE_VARIABLES } from './template.ts';

/** Prometheus metric and label names (the agent collects under node_exporter's names). */
const METRIC_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$/;
const LABEL_RE = /^(?!__)[a-zA-Z_][a-zA-Z0-9_]{0,99}$/;

/** The synthetic metric judged from agent heartbeats: 1 while the agent is connected, 0 when unreachable. */
export const AGENT_UP_METRIC = 'canopy_agent_up';
/**
 * The synthetic metric judged from automatic ejection, per backend of the machine (labels `service`,
 * `backend`): 1 while the availability check has it ejected from its service, 0 once it returned.
 */
export const BACKEND_EJECTED_METRIC = 'canopy_backend_ejected';
/**
 * The synthetic metric of a service's SLO, on every machine bound at or below its node (labels
 * `service`, `alert`: the SRE workbook's burn-rate alerts, `14.4x-1h-5m`…, `severity` page|ticket):
 * 1 while that alert fires, else 0.
 */
export const SLO_BURN_METRIC = 'canopy_slo_burn_alert';

/** A rule's or receiver's name: unique per node, the key a child overrides by. */
export const AlertName = z.string().regex(/^[a-z0-9]([a-z0-9_.-]{0,61}[a-z0-9])?$/, 'must be 1-63 lower-case letters, digits, and inner . _ -');

export const LabelFilter = z
  .record(z.string().regex(LABEL_RE, 'must be a Prometheus label name'), safeText({ max: 256 }))
  .refine((r) => Object.keys(r).length <= 16, 'at most 16 labels');

export const AlertCondition = z.strictObject({
  metric: z.string().regex(METRIC_RE, 'must be a Prometheus metric name'),
  match: LabelFilter.optional(),
  /** Open-Falcon's function: all(#3), avg(#5), max/min/sum(#n), diff(#n), pdiff(#n), nodata(seconds). */
  fn: z.string().max(32).transform((text, ctx) => {
    const fn = parseFunction(text);
    if (typeof fn === 'string') {
      ctx.addIssue({ code: 'custom', message: fn });
      return z.NEVER;
    }
    return functionText(fn);
  }),
  op: z.enum(OPERATORS),
  threshold: z.number().finite(),
});
export type AlertCondition = z.infer<typeof AlertCondition>;

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)');

/** When a rule is judged: days (0 Sunday … 6 Saturday) and a daily window in a time zone; end before start spans midnight. */
export const ActiveWindow = z.strictObject({
  days: z.array(z.number().int().min(0).max(6)).min(1).max(7).default([0, 1, 2, 3, 4, 5, 6]),
  start: HHMM.default('00:00'),
  end: z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'must be HH:MM (24 h) or 24:00').default('24:00'),
  timezone: z.string().max(64).default('UTC').refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as Asia/Shanghai'),
});
export type ActiveWindow = z.infer<typeof ActiveWindow>;

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

const Receivers = z.array(AlertName).max(16);

/** A rule as set on a node; `{ disabled: true }` alone switches off the inherited rule of that name. */
export const AlertRuleInput = z
  .strictObject({
    disabled: z.boolean().default(false),
    description: safeText({ max: 500 }).default(''),
    /** Joined by AND; one condition fires per series (per mount, per interface), several per machine. */
    conditions: z.array(AlertCondition).max(8).default([]),
    severity: z.enum(SEVERITIES).default('warning'),
    /** One line for the notification; may use the template variables. */
    summary: safeText({ max: 500 }).default(''),
    activeWindow: ActiveWindow.optional(),
    /** Held this long before it fires (Prometheus `for`). */
    forSeconds: z.number().int().min(0).max(86_400).default(0),
    /** Clear this long before it resolves, so a flapping value does not notify on every swing. */
    recoverySeconds: z.number().int().min(0).max(86_400).default(0),
    notifyRecovery: z.boolean().default(true),
    /** Firing notifications per alert, the first included (Open-Falcon's "max"). */
    maxNotifications: z.number().int().min(1).max(1000).default(3),
    repeatIntervalSeconds: z.number().int().min(10).max(7 * 86_400).default(1800),
    receivers: Receivers.default([]),
    escalation: z.strictObject({ afterMinutes: z.number().int().min(1).max(10_080), receivers: Receivers.min(1) }).optional(),
  })
  .superRefine((r, ctx) => {
    if (!r.disabled && r.conditions.length === 0) ctx.addIssue({ code: 'custom', path: ['conditions'], message: 'a rule needs at least one condition (or disabled: true to switch off the inherited one)' });
    if (r.disabled && r.conditions.length > 0) ctx.addIssue({ code: 'custom', path: ['conditions'], message: 'a disabling entry takes no conditions' });
    checkTemplate(r.summary, ctx, ['summary']);
  });
export type AlertRuleInput = z.input<typeof AlertRuleInput>;
export type AlertRuleSpec = z.infer<typeof AlertRuleInput>;

function checkTemplate(text: string, ctx: z.RefinementCtx, path: string[]): void {
  for (const m of text.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)) {
    if (!(TEMPLATE_VARIABLES as readonly string[]).includes(m[1]!)) ctx.addIssue({ code: 'custom', path, message: `unknown template variable {{${m[1]}}}; known: ${TEMPLATE_VARIABLES.join(', ')}` });
  }
}

export const RECEIVER_FORMATS = ['dingtalk', 'wecom', 'feishu', 'slack', 'json'] as const;
export type ReceiverFormat = (typeof RECEIVER_FORMATS)[number];

/** A webhook a node's rules notify; looked up by name from the alerting node upwards. */
export const AlertReceiverInput = z
  .strictObject({
    format: z.enum(RECEIVER_FORMATS),
    url: z.url({ protocol: /^https?$/ }).max(2048),
    /** DingTalk/Feishu signing secret; never shown back. */
    secret: z.string().min(1).max(256).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII').optional(),
    /** Message text; default: Canopy's summary. Variables: {{rule}}, {{machines}}, … */
    template: safeText({ max: 4000, multiline: true }).optional(),
  })
  .superRefine((r, ctx) => checkTemplate(r.template ?? '', ctx, ['template']));
export type AlertReceiverInput = z.infer<typeof AlertReceiverInput>;

export const SilenceInput = z
  .strictObject({
    node: NodePath,
    rule: AlertName.optional(),
    machine: Hostname.optional(),
    match: LabelFilter.optional(),
    startsAt: z.iso.datetime({ offset: true }).optional(),
    endsAt: z.iso.datetime({ offset: true }),
    comment: safeText({ max: 1000, min: 1 }),
  })
  .refine((s) => s.startsAt === undefined || Date.parse(s.startsAt) < Date.parse(s.endsAt), { path: ['endsAt'], message: 'must be after startsAt' });
export type SilenceInput = z.infer<typeof SilenceInput>;

export const AckInput = z.strictObject({ comment: safeText({ max: 1000 }).default('') });

export const ALERT_STATES = ['pending', 'firing', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

/** One alert: a rule on one machine (and series, for single-condition rules). */
export const AlertView = z.object({
  id: z.number(),
  rule: z.string(),
  /** The node the rule is set on. */
  origin: z.string(),
  /** The machine's node that the rule reached it through (notifications group by it). */
  node: z.string(),
  machine: z.string(),
  labels: z.record(z.string(), z.string()),
  severity: z.enum(SEVERITIES),
  state: z.enum(ALERT_STATES),
  value: z.number().nullable(),
  summary: z.string(),
  source: z.enum(['canopy', 'prometheus']),
  startedAt: z.string(),
  firedAt: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  ackedBy: z.string().nullable(),
  ackedAt: z.string().nullable(),
  silenced: z.boolean(),
  notifications: z.number(),
});
export type AlertView = z.infer<typeof AlertView>;
