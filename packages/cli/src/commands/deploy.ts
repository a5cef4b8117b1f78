/**
 * `canopy deploy run|ls|show|log|pause|resume|stop|rollback|approve|where|policy`: a node's process
 * rolled to a version of its artifact repository, batch by batch. `run --follow` shows progress
 * (the deployment's SSE stream) until it ends or waits for a person, and exits 1 unless it succeeded;
 * `show --follow` does the same for a deployment already under way.
 */
import type { Command } from 'commander';
import { DeployStrategy, FINISHED_DEPLOY_STATES, type DeployAction, type DeploymentDetailView, type DeploymentView, type DeployState } from '@canopy/core';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { fields, table, UsageError } from '../output.ts';
import { sseEvents } from '../sse.ts';

// Following stops at the end, or at a wait only a person ends (a pause, the canary, an approval).
const SETTLED = new Set<DeployState>([...FINISHED_DEPLOY_STATES, 'paused', 'awaiting-approval']);
// The strategy's fields as `run` spells them, so a schema issue names the flag the user typed.
const FLAGS: Record<string, string> = { batch: '--batch', canary: '--canary-wait', order: '--order', failureAction: '--on-failure', maxFailureRatio: '--max-failure-ratio', monitorSeconds: '--monitor', delaySeconds: '--delay', healthTimeoutSeconds: '--health-timeout' };

interface RunOptions extends JsonOption {
  batch?: string; canary?: boolean; canaryWait?: string; order?: string; onFailure?: string; maxFailureRatio?: string;
  monitor?: string; availabilityCheck?: boolean; delay?: string; healthTimeout?: string; reason?: string; follow?: boolean;
}

function id(v: string): number {
  if (!/^\d{1,9}$/.test(v)) throw new UsageError(`deployment id '${v}' must be a whole number`);
  return Number(v);
}

function num(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(v)) throw new UsageError(`${flag} '${v}' must be a number`);
  return Number(v);
}

/** The strategy the flags ask for (unset ones left to the server's defaults), checked by the server's own schema. */
function strategyOf(o: RunOptions): Record<string, unknown> {
  const wait = num('--canary-wait', o.canaryWait);
  const raw: Record<string, unknown> = {
    batch: o.batch === undefined ? undefined : /^\d+$/.test(o.batch) ? Number(o.batch) : o.batch,
    canary: wait !== undefined ? { waitSeconds: wait } : o.canary ? {} : undefined,
    order: o.order, failureAction: o.onFailure, maxFailureRatio: num('--max-failure-ratio', o.maxFailureRatio),
    monitorSeconds: num('--monitor', o.monitor), availabilityCheck: o.availabilityCheck === false ? false : undefined, delaySeconds: num('--delay', o.delay), healthTimeoutSeconds: num('--health-timeout', o.healthTimeout),
  };
  const given = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  const r = DeployStrategy.safeParse(given);
  if (!r.success) throw new UsageError(`invalid ${r.error.issues.map((i) => `${FLAGS[String(i.path[0])] ?? i.path.join('.')}: ${i.message}`).join('; ')}`);
  return given;
}

function summary(d: DeploymentView): string {
  const why = d.reason ? ` (${d.reason})` : '';
  const hosts = d.progress.total === 0 ? 'no hosts' : `${d.progress.total} host${d.progress.total === 1 ? '' : 's'} in batches ${d.batches.join(', ')}`;
  const from = d.previousVersion ? `, from ${d.previousVersion}` : '';
  const back = d.rollbackOf !== null ? `, rolling back #${d.rollbackOf}` : '';
  return `deployment ${d.id} of ${d.node}@${d.version} ${d.state}${why}: ${hosts}${from}${back}\n`;
}

function progressLine(d: DeploymentView): string {
  const p = d.progress;
  const batch = d.batches.length === 0 ? 'no batches' : `batch ${Math.min(d.currentBatch + 1, d.batches.length)}/${d.batches.length}`;
  return `deployment ${d.id} ${d.state}${d.reason ? ` (${d.reason})` : ''}: ${batch}, ${p.updated} updated, ${p.failed} failed, ${p.inFlight} in flight of ${p.total}\n`;
}

function strategyText(s: DeploymentView['strategy']): string {
  const canary = s.canary === false ? 'no canary' : s.canary.waitSeconds === undefined ? 'canary (waits for resume)' : `canary (waits ${s.canary.waitSeconds} s)`;
  return `batch ${s.batch}, ${canary}, ${s.order}, on failure ${s.failureAction} (max failure ratio ${s.maxFailureRatio}), monitor ${s.monitorSeconds} s${s.availabilityCheck === false ? '' : ' (with the SLO check)'}, delay ${s.delaySeconds} s, health timeout ${s.healthTimeoutSeconds} s`;
}

function details(d: DeploymentDetailView): string {
  const info = fields([
    ['strategy', strategyText(d.strategy)], ['previous', d.previousVersion], ['rollback of', d.rollbackOf], ['rolled back by', d.rolledBackBy],
    ['by', d.createdBy], ['approved by', d.approvedBy], ['created', d.createdAt], ['finished', d.finishedAt],
  ]);
  const hosts = table(['host', 'batch', 'state', 'task', 'reason', 'from-version'], d.hosts.map((h) => [h.hostname, h.batch + 1, h.state, h.task, h.reason ?? h.message, h.fromVersion]), '(no hosts)\n');
  return summary(d) + info + hosts;
}

/** What a follow that did not end in success stopped at, and what a person can do about it. */
function unsettledNote(d: DeploymentView): string {
  if (d.state === 'awaiting-approval') return `deployment ${d.id} awaits approval: someone else runs \`canopy deploy approve ${d.id}\``;
  if (d.state === 'paused') return `deployment ${d.id} is paused${d.reason ? ` (${d.reason})` : ''}: \`canopy deploy resume ${d.id}\` goes on, \`canopy deploy rollback ${d.id}\` goes back`;
  return `deployment ${d.id} ${d.state}${d.reason ? ` (${d.reason})` : ''}${d.rolledBackBy !== null ? `, rolled back by deployment ${d.rolledBackBy}` : ''}`;
}

const get = (ctx: CliContext, n: number) => ctx.client().request<DeploymentDetailView>('GET', `/deployments/${n}`);

/** The details the server streams while the deployment runs, until it ends the stream. */
async function* events(ctx: CliContext, n: number): AsyncGenerator<DeploymentDetailView> {
  for await (const e of sseEvents(ctx, `/deployments/${n}/log`, () => get(ctx, n))) {
    if (e.event === 'deployment') yield e.data as DeploymentDetailView;
  }
}

/**
 * Say each change of deployment `n` (its progress line, each host's new state) until it settles;
 * returns the last detail. Without `first` (what the caller already has) the stream's first event is the start.
 */
async function follow(ctx: CliContext, n: number, say: (text: string) => void, first?: DeploymentDetailView): Promise<DeploymentDetailView> {
  let last = first;
  let line = '';
  const seen = new Map<string, string>();
  const show = (d: DeploymentDetailView) => {
    for (const h of d.hosts) {
      const was = seen.get(h.hostname);
      if (was !== undefined && was !== h.state) say(`  ${h.hostname}: ${was} → ${h.state}${h.reason ? ` (${h.reason})` : ''}\n`);
      seen.set(h.hostname, h.state);
    }
    const l = progressLine(d);
    if (l !== line) say(l);
    line = l;
    last = d;
  };
  if (first) show(first);
  while (!last || !SETTLED.has(last.state)) {
    for await (const d of events(ctx, n)) {
      show(d);
      if (SETTLED.has(d.state)) break;
    }
    // The server ends the stream when the deployment finishes, or cuts off a slow reader: ask where it is.
    if (!last || !SETTLED.has(last.state)) show(await get(ctx, n));
  }
  return last;
}

/** After a follow: exit 1, with what it stopped at on stderr, unless the deployment succeeded. */
function settle(ctx: CliContext, end: DeploymentView): void {
  if (end.state === 'succeeded') return;
  ctx.note(unsettledNote(end));
  process.exitCode = 1;
}

const ACTIONS: Record<DeployAction, string> = {
  pause: 'stop switching hosts (one mid-switch finishes its switch)',
  resume: 'go on after a pause or the canary',
  stop: 'end it: hosts not switched yet are skipped',
  rollback: 'deploy the previous version (a paused deployment ends first); prints the new deployment',
  approve: 'approve a deployment awaiting approval (one someone else started)',
};

/** Adds `canopy deploy`. */
export function registerDeploy(program: Command, ctx: CliContext): void {
  const deploy = program.command('deploy').description("roll a node's process to a version of its artifact repository, batch by batch");

  withJson(deploy.command('run <node> <version>').description('deploy <version> of the node\'s artifacts to its hosts; prints the id and the batches'))
    .option('--batch <size>', 'hosts per batch: a count (2), a share (25%) or a growth ("5 *2"); default 1')
    .option('--canary', 'the first batch is one host, then wait for `canopy deploy resume`')
    .option('--canary-wait <seconds>', 'a canary that goes on by itself after this long healthy')
    .option('--order <order>', 'stop-first (old stops, then new starts; default) or start-first')
    .option('--on-failure <action>', 'pause (default) or rollback')
    .option('--max-failure-ratio <r>', 'share of hosts (0 to 1) that may fail before --on-failure applies; default 0')
    .option('--monitor <seconds>', 'watch each batch this long after it is up; default 5')
    .option('--no-availability-check', "do not hold the monitor window to the service's SLO (its availability from the Nginx logs)")
    .option('--delay <seconds>', 'wait between batches; default 0')
    .option('--health-timeout <seconds>', 'a new process healthy within this long, or its host fails; default 300')
    .option('--reason <text>', 'why, kept in the history')
    .option('--follow', 'show progress until it ends or pauses; exit 1 unless it succeeded')
    .action(async (node: string, version: string, o: RunOptions) => {
      const d = await ctx.client().request<DeploymentDetailView>('POST', '/deployments', { nodePath: node, version, strategy: strategyOf(o), ...(o.reason ? { reason: o.reason } : {}) });
      if (!o.follow) return ctx.print(o.json, d, () => summary(d));
      // With --json the progress goes to stderr: the final detail is the one JSON document on stdout.
      if (!o.json) ctx.out(summary(d));
      const end = await follow(ctx, d.id, o.json ? (t) => ctx.note(t) : (t) => ctx.out(t), d);
      if (o.json) ctx.print(true, end, () => '');
      settle(ctx, end);
    });

  withJson(deploy.command('ls').description('deployments of a node, newest first'))
    .option('--under <node>', 'the node (superusers: every deployment without it)')
    .option('--limit <n>', 'at most this many', '50')
    .option('--cursor <id>', 'the page after this id (as the previous page said)')
    .action(async (o: JsonOption & { under?: string; limit: string; cursor?: string }) => {
      const q = new URLSearchParams({ limit: o.limit, ...(o.under ? { node: o.under } : {}), ...(o.cursor ? { cursor: o.cursor } : {}) });
      const page = await ctx.client().request<{ items: DeploymentView[]; nextCursor: string | null }>('GET', `/deployments?${q}`);
      ctx.print(o.json, page.items, () =>
        table(['id', 'node', 'version', 'state', 'hosts', 'updated', 'failed', 'by', 'created'], page.items.map((d) => [d.id, d.node, d.version, d.state, d.progress.total, d.progress.updated, d.progress.failed, d.createdBy, d.createdAt]), '(no deployments)\n'),
      );
      if (page.nextCursor && !o.json) ctx.note(`more: add --cursor ${page.nextCursor}`);
    });

  withJson(deploy.command('show <id>').description('one deployment: strategy, progress and its hosts'))
    .option('--follow', 'show progress until it ends or pauses, then the deployment; exit 1 unless it succeeded')
    .action(async (v: string, o: JsonOption & { follow?: boolean }) => {
      const n = id(v);
      const d = o.follow ? await follow(ctx, n, (t) => (o.json ? ctx.note(t) : ctx.out(t))) : await get(ctx, n);
      ctx.print(o.json, d, () => details(d));
      if (o.follow) settle(ctx, d);
    });

  deploy.command('log <id>').description("one host's log in a deployment (its new process task's output)").requiredOption('--host <hostname>', 'the host').action(async (v: string, o: { host: string }) => {
    const { text } = await ctx.client().request<{ text: string }>('GET', `/deployments/${id(v)}/hosts/${encodeURIComponent(o.host)}/log`);
    ctx.out(text && !text.endsWith('\n') ? `${text}\n` : text);
  });

  for (const action of Object.keys(ACTIONS) as DeployAction[]) {
    withJson(deploy.command(`${action} <id>`).description(ACTIONS[action])).action(async (v: string, o: JsonOption) => {
      const d = await ctx.client().request<DeploymentDetailView>('POST', `/deployments/${id(v)}/${action}`);
      ctx.print(o.json, d, () => summary(d));
    });
  }

  withJson(deploy.command('where <node>').description('the version each host at or under the node runs')).action(async (node: string, o: JsonOption) => {
    const r = await ctx.client().request<{ items: { hostname: string; version: string | null; state: string }[] }>('GET', `/nodes/${encodeURIComponent(node)}/deploy/running`);
    ctx.print(o.json, r.items, () => table(['host', 'version', 'state'], r.items.map((h) => [h.hostname, h.version, h.state]), '(no hosts)\n'));
  });

  withJson(deploy.command('policy <node>').description('whether deployments of the node need a second person to approve them; set it with --require-approval'))
    .option('--require-approval <bool>', 'true, false, or inherit (the nearest ancestor that says decides)')
    .action(async (node: string, o: JsonOption & { requireApproval?: string }) => {
      const url = `/nodes/${encodeURIComponent(node)}/deploy-policy`;
      const value = new Map<string, boolean | null>([['true', true], ['false', false], ['inherit', null]]).get(o.requireApproval ?? '');
      if (o.requireApproval !== undefined && value === undefined) throw new UsageError(`--require-approval '${o.requireApproval}' must be true, false or inherit`);
      type Policy = { requireApproval: boolean; inherited: boolean };
      const p = await (value === undefined ? ctx.client().request<Policy>('GET', url) : ctx.client().request<Policy>('PUT', url, { requireApproval: value }));
      ctx.print(o.json, p, () => `${node}: approval ${p.requireApproval ? 'required' : 'not required'} (${p.inherited ? 'inherited' : 'set here'})\n`);
    });
}
