/**
 * The same rules as a Prometheus rule file, for Prometheus mode. A rule set on node P covers the
 * series whose target carries P or a node beneath it in `canopy_paths` (Canopy's HTTP service
 * discovery writes `,a.b,c.d,`: every node the machine is bound to), minus the subtrees below P that
 * set their own entry of that name (an override or a disabling), so override works as in Canopy's
 * own evaluator. `#n` becomes a range of n scrape periods. Exact for all/avg/max/min/sum with
 * ordering operators and for nodata of series seen within the hour; `all` with `!=` and
 * `diff`/`pdiff` with `==`/`!=` are close approximations (PromQL has no "every point" filter).
 */
import { parseFunction, type Operator } from './functions.ts';
import { AGENT_UP_METRIC, type AlertCondition, type AlertRuleSpec } from './schema.ts';

/** The target label holding the machine's node paths, `,`-wrapped. */
export const NODES_LABEL = 'canopy_paths';
/** The label two conditions of one rule are joined on: one scrape target per machine. */
export const MACHINE_LABEL = 'instance';

/** One rule to export: its entry, where it is set, the subtree it covers, and the subtrees below that set their own entry of its name. */
export interface ExportRule {
  name: string;
  origin: string;
  /** The node whose subtree it covers: its origin, or the exported node when the rule is inherited from above. */
  scope: string;
  spec: AlertRuleSpec;
  excluded: string[];
}

function subtreeRegex(paths: readonly string[]): string {
  const alt = paths.map((p) => p.replaceAll('.', '\\.')).join('|');
  return `.*,(${alt})(\\.[^,]*)?,.*`;
}

/** A PromQL string literal (Go escapes; JSON's are a subset). */
function q(text: string): string {
  return JSON.stringify(text);
}

function selector(c: AlertCondition, r: ExportRule): string {
  const metric = c.metric === AGENT_UP_METRIC ? 'up' : c.metric;
  const m = [`${NODES_LABEL}=~${q(subtreeRegex([r.scope]))}`];
  if (r.excluded.length > 0) m.push(`${NODES_LABEL}!~${q(subtreeRegex(r.excluded))}`);
  for (const [k, v] of Object.entries(c.match ?? {}).sort()) m.push(`${k}=${q(v)}`);
  return `${metric}{${m.join(',')}}`;
}

const lowOps: readonly Operator[] = ['<', '<='];

function conditionExpr(c: AlertCondition, r: ExportRule, step: number): string {
  const fn = parseFunction(c.fn);
  if (typeof fn === 'string') throw new Error(`bad function ${c.fn}`);
  const s = selector(c, r);
  const t = String(c.threshold);
  if (fn.name === 'nodata') return `present_over_time(${s}[1h]) unless present_over_time(${s}[${fn.seconds}s])`;
  // n points at one per step: a closed range one second short of n steps holds exactly n.
  const w = `${fn.n * step - 1}s`;
  const cmp = (e: string) => `${e} ${c.op} ${t}`;
  switch (fn.name) {
    case 'all':
      if (c.op === '==') return `(${cmp(`min_over_time(${s}[${w}])`)}) and (${cmp(`max_over_time(${s}[${w}])`)})`;
      if (c.op === '!=') return `(max_over_time(${s}[${w}]) < ${t}) or (min_over_time(${s}[${w}]) > ${t})`;
      return cmp(`${lowOps.includes(c.op) ? 'max' : 'min'}_over_time(${s}[${w}])`);
    case 'avg':
    case 'max':
    case 'min':
    case 'sum':
      return cmp(`${fn.name}_over_time(${s}[${w}])`);
    case 'diff':
    case 'pdiff': {
      const agg = c.op === '==' || c.op === '!=' ? 'last' : lowOps.includes(c.op) ? 'max' : 'min';
      const base = agg === 'last' ? `(${s} offset ${step}s)` : `${agg}_over_time(${s}[${w}] offset ${step}s)`;
      return cmp(fn.name === 'diff' ? `(${s} - ${base})` : `(100 * (${s} - ${base}) / ${base})`);
    }
  }
}

/** The rule's PromQL: its conditions joined by AND on the machine. */
export function ruleExpr(r: ExportRule, stepSeconds = 10): string {
  const parts = r.spec.conditions.map((c) => conditionExpr(c, r, stepSeconds));
  return parts.length === 1 ? parts[0]! : parts.map((p) => `(${p})`).join(` and on(${MACHINE_LABEL}) `);
}

/** A summary in Go template syntax: Canopy's variables mapped, any other `{{` made literal. */
export function summaryTemplate(text: string, r: ExportRule): string {
  const literal: Record<string, string> = { rule: r.name, severity: r.spec.severity, origin: r.origin, node: r.origin, status: 'FIRING', count: '1', escalation: '' };
  return text.replace(/\{\{\s*([a-zA-Z]+)\s*\}\}|\{\{/g, (whole, name?: string) => {
    if (name === 'value') return '{{ $value }}';
    if (name === 'machines') return '{{ $labels.instance }}';
    if (name === 'startedAt' || name === 'summary') return '';
    if (name !== undefined && literal[name] !== undefined) return literal[name]!.replace(/[{}]/g, '');
    return `{{ ${q(whole)} }}`;
  });
}

/** A Prometheus rule file (YAML; every string JSON-quoted, which YAML reads as a double-quoted scalar). */
export function prometheusRuleFile(rules: readonly ExportRule[], stepSeconds = 10): string {
  if (rules.length === 0) return 'groups: []\n';
  const out = ['groups:'];
  for (const r of rules) {
    out.push(`  - name: ${q(`canopy:${r.scope}:${r.name}`)}`, '    rules:', `      - alert: ${q(r.name)}`, `        expr: ${q(ruleExpr(r, stepSeconds))}`);
    if (r.spec.forSeconds > 0) out.push(`        for: ${r.spec.forSeconds}s`);
    if (r.spec.recoverySeconds > 0) out.push(`        keep_firing_for: ${r.spec.recoverySeconds}s`);
    out.push('        labels:', `          severity: ${q(r.spec.severity)}`, `          canopy_rule: ${q(r.name)}`, `          canopy_origin: ${q(r.origin)}`);
    out.push('        annotations:', `          summary: ${q(summaryTemplate(r.spec.summary || r.spec.description || r.name, r))}`);
  }
  return `${out.join('\n')}\n`;
}
