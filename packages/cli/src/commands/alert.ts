/**
 * `canopy alert ls|history|ack|silence|silences|unsilence|rules|set-rule|rm-rule|export`: alerts of
 * a subtree, acknowledging and silencing them, and a node's rules with where each comes from.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { AlertView } from '@canopy/core';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { labels, table, UsageError } from '../output.ts';

interface RulesView {
  node: string;
  effective: { name: string; origin: string; inherited: boolean; disabled: boolean; overrides: string[]; severity: string; conditions: { metric: string; fn: string; op: string; threshold: number; match?: Record<string, string> }[] }[];
}
interface SilenceView {
  id: number;
  node: string;
  rule: string | null;
  machine: string | null;
  match: Record<string, string>;
  endsAt: string;
  comment: string;
  createdBy: string;
}

const seg = (path: string) => encodeURIComponent(path);
const short = (iso: string | null) => (iso === null ? '' : iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z'));

function renderAlerts(items: AlertView[]): string {
  return table(
    ['id', 'state', 'severity', 'rule', 'machine', 'labels', 'node', 'origin', 'since', 'ack'],
    items.map((a) => [a.id, a.silenced ? `${a.state} (silenced)` : a.state, a.severity, a.rule, a.machine, labels(a.labels), a.node, a.origin, short(a.firedAt ?? a.startedAt), a.ackedBy ?? '']),
  );
}

/** `30m`, `2h`, `1d` in milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d{1,6})(s|m|h|d)$/.exec(text);
  if (!m) throw new UsageError(`--for takes a duration like 30m, 2h or 1d, not "${text}"`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

/** `k=v,k2=v2` as a label map. */
function parseLabels(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const part of text.split(',').filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    if (eq < 1) throw new UsageError(`--match takes label=value pairs, not "${part}"`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** Adds `canopy alert`. */
export function registerAlert(program: Command, ctx: CliContext): void {
  const alert = program.command('alert').description('alerts of a subtree: ls, history, ack, silence; rules on nodes');
  const under = (o: { under?: string }) => {
    if (!o.under) throw new UsageError('--under <path> is required');
    return o.under;
  };

  withJson(alert.command('ls').description('live alerts (pending and firing) of machines under a node'))
    .option('--under <path>', 'the node')
    .action(async (o: JsonOption & { under?: string }) => {
      const r = await ctx.client().request<{ items: AlertView[] }>('GET', `/monitor/alerts?under=${seg(under(o))}&limit=1000`);
      ctx.print(o.json, r, () => renderAlerts(r.items));
    });

  withJson(alert.command('history').description('every alert of a subtree, newest first'))
    .option('--under <path>', 'the node')
    .option('--limit <n>', 'how many', '50')
    .action(async (o: JsonOption & { under?: string; limit: string }) => {
      const r = await ctx.client().request<{ items: AlertView[] }>('GET', `/monitor/alerts?under=${seg(under(o))}&state=all&limit=${seg(o.limit)}`);
      ctx.print(o.json, r, () => renderAlerts(r.items));
    });

  withJson(alert.command('ack <id>').description('acknowledge an alert: no more repeats or escalation'))
    .option('--comment <text>', 'why', '')
    .action(async (id: string, o: JsonOption & { comment: string }) => {
      if (!/^\d+$/.test(id)) throw new UsageError(`alert id must be a number, not "${id}"`);
      const r = await ctx.client().request<AlertView>('POST', `/monitor/alerts/${id}/ack`, { comment: o.comment });
      ctx.print(o.json, r, () => `acknowledged alert ${r.id} (${r.rule} on ${r.machine})\n`);
    });

  withJson(alert.command('silence').description('mute alerts of a node (and below) for a while'))
    .option('--node <path>', 'the node')
    .option('--rule <name>', 'only this rule')
    .option('--machine <hostname>', 'only this machine')
    .option('--match <labels>', 'only series with these labels, e.g. mountpoint=/data')
    .option('--for <duration>', 'how long: 30m, 2h, 1d', '2h')
    .option('--comment <text>', 'why (required)')
    .action(async (o: JsonOption & { node?: string; rule?: string; machine?: string; match?: string; for: string; comment?: string }) => {
      if (!o.node) throw new UsageError('--node <path> is required');
      if (!o.comment) throw new UsageError('--comment <text> is required: say why');
      const match = parseLabels(o.match);
      const body = { node: o.node, comment: o.comment, endsAt: new Date(Date.now() + parseDuration(o.for)).toISOString(), ...(o.rule ? { rule: o.rule } : {}), ...(o.machine ? { machine: o.machine } : {}), ...(match ? { match } : {}) };
      const r = await ctx.client().request<SilenceView>('POST', '/monitor/silences', body);
      ctx.print(o.json, r, () => `silence ${r.id} on ${r.node} until ${short(r.endsAt)}\n`);
    });

  withJson(alert.command('silences').description('silences in force on a node, its ancestors and below'))
    .option('--under <path>', 'the node')
    .action(async (o: JsonOption & { under?: string }) => {
      const r = await ctx.client().request<{ items: SilenceView[] }>('GET', `/monitor/silences?under=${seg(under(o))}`);
      ctx.print(o.json, r, () => table(['id', 'node', 'rule', 'machine', 'match', 'until', 'by', 'comment'], r.items.map((s) => [s.id, s.node, s.rule ?? '*', s.machine ?? '*', labels(s.match), short(s.endsAt), s.createdBy, s.comment])));
    });

  alert.command('unsilence <id>').description('end a silence now').action(async (id: string) => {
    if (!/^\d+$/.test(id)) throw new UsageError(`silence id must be a number, not "${id}"`);
    await ctx.client().request('DELETE', `/monitor/silences/${id}`);
  });

  withJson(alert.command('rules <path>').description("the rules in force on a node, with the node each is set on"))
    .action(async (path: string, o: JsonOption) => {
      const r = await ctx.client().request<RulesView>('GET', `/nodes/${seg(path)}/alert-rules`);
      ctx.print(o.json, r, () =>
        table(['name', 'severity', 'conditions', 'origin', 'overrides'], r.effective.map((e) => [
          e.name, e.disabled ? 'disabled' : e.severity,
          e.conditions.map((c) => `${c.fn} ${c.metric}${c.match ? labels(c.match) : ''} ${c.op} ${c.threshold}`).join(' AND '),
          e.inherited ? e.origin : 'here', e.overrides.join(','),
        ])));
    });

  withJson(alert.command('set-rule <path> <name> <file>').description('set a rule on a node from a JSON file ({"disabled": true} switches the inherited one off)'))
    .action(async (path: string, name: string, file: string, o: JsonOption) => {
      let body: unknown;
      try {
        body = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8'));
      } catch (err) {
        throw new UsageError(`${file}: ${(err as Error).message}`);
      }
      const r = await ctx.client().request<RulesView>('PUT', `/nodes/${seg(path)}/alert-rules/${seg(name)}`, body);
      ctx.print(o.json, r, () => `set ${name} on ${r.node}\n`);
    });

  alert.command('rm-rule <path> <name>').description("remove a node's own rule (the inherited one applies again)").action(async (path: string, name: string) => {
    await ctx.client().request('DELETE', `/nodes/${seg(path)}/alert-rules/${seg(name)}`);
  });

  alert.command('export').description('the rules judging machines under a node as a Prometheus rule file')
    .option('--under <path>', 'the node')
    .action(async (o: { under?: string }) => {
      process.stdout.write(await ctx.client().request<string>('GET', `/monitor/prometheus/rules?under=${seg(under(o))}`, undefined, { accept: 'application/yaml' }));
    });
}
