/**
 * `canopy job run|ls|show|pause|resume|stop|retry|skip`, `canopy machine init|reboot` (jobs of those kinds)
 * and `canopy agent ls`. `job run … -- CMD ARGS` runs the argv as is; one argument after `--` is a
 * shell line (`-- 'uptime; df -h'`), run by /bin/sh -c.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { JobDetailView, JobView } from '@canopy/core';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { table, UsageError } from '../output.ts';

interface TargetOptions {
  under?: string;
  hosts?: string;
  selector?: string;
  batch?: string;
  parallelism?: string;
  tolerance?: string;
  canary?: boolean;
  follow?: boolean;
}

const FINISHED = new Set(['succeeded', 'failed', 'stopped']);

function int(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,9}$/.test(v)) throw new UsageError(`${flag} '${v}' must be a whole number`);
  return Number(v);
}

function withTarget(cmd: Command): Command {
  return withJson(cmd)
    .option('--under <path>', 'the machines of this subtree')
    .option('--hosts <h1,h2>', 'these machines (within --under when both are given)')
    .option('--selector <k=v,…>', 'machines of --under whose labels hold every pair')
    .option('--batch <size>', 'hosts per batch: a count (10), a share (10%) or a growth ("5 *2")', '100%')
    .option('--parallelism <n>', 'tasks running at once within a batch')
    .option('--tolerance <n>', 'failed hosts tolerated before the job pauses', '0')
    .option('--canary', 'run one host first and pause until `canopy job resume`')
    .option('--follow', 'show progress until the job ends; exit 1 unless it succeeded');
}

function targetBody(o: TargetOptions) {
  if (!o.under && !o.hosts) throw new UsageError('name the machines: --under PATH or --hosts h1,h2');
  const batch = /^\d+$/.test(o.batch ?? '') ? Number(o.batch) : o.batch;
  return {
    target: { ...(o.under ? { under: o.under } : {}), ...(o.hosts ? { hosts: o.hosts.split(',').filter(Boolean) } : {}), ...(o.selector ? { selector: o.selector } : {}) },
    batch: { size: batch, tolerance: int('--tolerance', o.tolerance) ?? 0, canary: o.canary === true, ...(o.parallelism ? { parallelism: int('--parallelism', o.parallelism) } : {}) },
  };
}

function summary(j: JobView): string {
  const c = j.counts;
  const paused = j.pausedBecause ? ` (${j.pausedBecause})` : '';
  return `job ${j.id} ${j.state}${paused}: batch ${j.currentBatch + 1}/${j.batches.length}, ${c['succeeded'] ?? 0} succeeded, ${c['failed'] ?? 0} failed, ${c['running'] ?? 0} running, ${c['pending'] ?? 0} pending of ${c['total'] ?? 0}\n`;
}

function groups(d: JobDetailView): string {
  return d.groups
    .map((g) => {
      const who = g.count === 1 ? g.hosts[0] : `${g.count} hosts, same output`;
      const body = `${g.stdout}${g.stderr ? `--- stderr\n${g.stderr}` : ''}`;
      return `== ${who} (${g.state}, exit ${g.exitCode ?? '-'})${g.count > 1 ? `: ${g.hosts.slice(0, 10).join(', ')}${g.count > 10 ? ', …' : ''}` : ''}\n${body}${body.endsWith('\n') || !body ? '' : '\n'}`;
    })
    .join('');
}

const get = (ctx: CliContext, id: number) => ctx.client().request<JobDetailView>('GET', `/jobs/${id}`);

/** Create a job; with --follow, print progress until it ends and set the exit code. */
async function launch(ctx: CliContext, body: unknown, o: TargetOptions & JsonOption): Promise<void> {
  const job = await ctx.client().request<JobView>('POST', '/jobs', body);
  if (!o.follow) return ctx.print(o.json, job, () => summary(job));
  let last = '';
  for (;;) {
    const d = await get(ctx, job.id);
    const line = summary(d);
    if (!o.json && line !== last) process.stderr.write(line);
    last = line;
    if (FINISHED.has(d.state)) {
      ctx.print(o.json, d, () => groups(d));
      if (d.state !== 'succeeded') process.exitCode = 1;
      return;
    }
    await sleep(300);
  }
}

/** Adds `canopy job` and `canopy agent`. */
export function registerJobs(program: Command, ctx: CliContext): void {
  const job = program.command('job').description('run commands on many machines in batches; follow, pause, stop and retry them');
  withTarget(job.command('run').description('run a command (argv after --) or --script FILE on machines'))
    .option('--user <name>', 'the OS user to run as', 'root')
    .option('--timeout <seconds>', 'kill the command after this long', '600')
    .option('--script <file>', 'run this file with /bin/sh instead of a command')
    .argument('[command...]', 'the command after --')
    .action(async (argv: string[], o: TargetOptions & JsonOption & { user: string; timeout: string; script?: string }) => {
      if (o.script && argv.length > 0) throw new UsageError('give a command after -- or --script FILE, not both');
      if (!o.script && argv.length === 0) throw new UsageError('give the command after --, e.g. `canopy job run --under corp.pay -- uptime`');
      const body = o.script ? { script: readFileSync(o.script, 'utf8') } : { command: argv.length === 1 ? argv[0] : argv };
      await launch(ctx, { kind: 'exec', ...body, user: o.user, timeoutSeconds: int('--timeout', o.timeout), ...targetBody(o) }, o);
    });

  withJson(job.command('ls').description('list jobs of a subtree, newest first').option('--under <path>', 'the subtree'))
    .action(async (o: JsonOption & { under?: string }) => {
      const page = await ctx.client().request<{ items: JobView[] }>('GET', `/jobs${o.under ? `?under=${encodeURIComponent(o.under)}` : ''}`);
      ctx.print(o.json, page.items, () =>
        table(['id', 'kind', 'state', 'hosts', 'failed', 'by', 'created'], page.items.map((j) => [j.id, j.kind, j.state, j.counts['total'] ?? 0, j.counts['failed'] ?? 0, j.createdBy, j.createdAt]), '(no jobs)\n'),
      );
    });

  withJson(job.command('show <id>').description("a job's hosts and grouped output")).action(async (id: string, o: JsonOption) => {
    const d = await get(ctx, int('<id>', id)!);
    ctx.print(o.json, d, () =>
      summary(d) +
      (d.kind === 'reboot'
        ? table(['host', 'batch', 'state', 'downtime', 'error'], d.hosts.map((h) => [h.hostname, h.batch + 1, h.state, h.downtimeSeconds === null ? '' : `${h.downtimeSeconds} s`, h.error ?? '']))
        : table(['host', 'batch', 'state', 'exit', 'ms', 'error'], d.hosts.map((h) => [h.hostname, h.batch + 1, h.state, h.exitCode ?? '', h.durationMs ?? '', h.error ?? '']))) +
      groups(d),
    );
  });

  for (const action of ['pause', 'resume', 'stop', 'retry'] as const) {
    const what = { pause: 'stop starting new hosts', resume: 'go on (after a pause or the canary)', stop: 'stop running commands (SIGTERM, then SIGKILL) and skip the rest', retry: 'run the failed hosts again' }[action];
    withJson(job.command(`${action} <id>`).description(what)).action(async (id: string, o: JsonOption) => {
      const j = await ctx.client().request<JobView>('POST', `/jobs/${int('<id>', id)}/${action}`);
      ctx.print(o.json, j, () => summary(j));
    });
  }

  withJson(job.command('skip <id> <hosts...>').description('skip hosts: a pending one is not run, a running one is stopped, a failed one stops counting against the tolerance'))
    .action(async (id: string, hosts: string[], o: JsonOption) => {
      const j = await ctx.client().request<JobView>('POST', `/jobs/${int('<id>', id)}/skip`, { hosts });
      ctx.print(o.json, j, () => summary(j));
    });

  const agent = program.command('agent').description('the agents on the machines');
  withJson(agent.command('ls').description('agent state per machine of a subtree').option('--under <path>', 'the subtree (superusers: all machines without it)'))
    .action(async (o: JsonOption & { under?: string }) => {
      type Row = { hostname: string; state: string; agentVersion: string | null; lastHeartbeatAt: string | null };
      const page = await ctx.client().request<{ items: Row[]; total: number }>('GET', `/agents${o.under ? `?under=${encodeURIComponent(o.under)}` : ''}`);
      ctx.print(o.json, page.items, () => table(['host', 'agent', 'version', 'last heartbeat'], page.items.map((a) => [a.hostname, a.state, a.agentVersion ?? '', a.lastHeartbeatAt ?? '']), '(no machines)\n'));
    });
}

/** Adds `init` and `reboot` to `canopy machine`: jobs of those kinds. */
export function registerMachineJobs(machine: Command, ctx: CliContext): void {
  withTarget(machine.command('init').description("initialise machines: each runs its node's init command (see `init-command`; default `puppet agent --test`, Canopy is the ENC)")).action(async (o: TargetOptions & JsonOption) => {
    await launch(ctx, { kind: 'init', ...targetBody(o) }, o);
  });
  withTarget(machine.command('reboot').description('reboot machines in batches')).action(async (o: TargetOptions & JsonOption) => {
    await launch(ctx, { kind: 'reboot', ...targetBody(o) }, o);
  });
  registerInitCommand(machine, ctx);
}

type InitView = { node: string; own: InitCommand | null; effective: InitCommand; from: string | null; updatedBy: string | null; updatedAt: string | null };
type InitCommand = { argv?: string[]; script?: string; okExitCodes: number[] };

function initText(v: InitView): string {
  const what = (c: InitCommand) => (c.argv ? c.argv.join(' ') : `script (${c.script!.split('\n').length} lines)`);
  const from = v.from === null ? 'the default' : v.from === v.node ? 'this node' : `inherited from ${v.from}`;
  return `${v.node}: ${what(v.effective)} (exit ${v.effective.okExitCodes.join(',')} is success; ${from})\n${v.effective.script ? `${v.effective.script}${v.effective.script.endsWith('\n') ? '' : '\n'}` : ''}`;
}

/** `canopy machine init-command get|set|rm <path>`: what `init` runs on the machines below a node. */
function registerInitCommand(machine: Command, ctx: CliContext): void {
  const cmd = machine.command('init-command').description('the command `machine init` runs below a node (nearest ancestor wins; default puppet agent --test)');
  const url = (path: string) => `/nodes/${encodeURIComponent(path)}/init-command`;
  withJson(cmd.command('get <path>').description("the node's init command, and where it comes from")).action(async (path: string, o: JsonOption) => {
    const v = await ctx.client().request<InitView>('GET', url(path));
    ctx.print(o.json, v, () => initText(v));
  });
  withJson(cmd.command('set <path>').description('set it: the argv after --, or --script FILE'))
    .option('--script <file>', 'run this file with /bin/sh instead of a command')
    .option('--ok-exit-codes <codes>', 'exit statuses that count as success', '0')
    .argument('[command...]', 'the command after --')
    .action(async (path: string, argv: string[], o: JsonOption & { script?: string; okExitCodes: string }) => {
      if (o.script && argv.length > 0) throw new UsageError('give a command after -- or --script FILE, not both');
      if (!o.script && argv.length === 0) throw new UsageError('give the command after --, e.g. `canopy machine init-command set corp.pay -- /usr/local/sbin/init --fast`');
      const codes = o.okExitCodes.split(',').map((c) => int('--ok-exit-codes', c.trim())!);
      const body = { ...(o.script ? { script: readFileSync(o.script, 'utf8') } : { argv }), okExitCodes: codes };
      const v = await ctx.client().request<InitView>('PUT', url(path), body);
      ctx.print(o.json, v, () => initText(v));
    });
  cmd.command('rm <path>').description("remove the node's own command (it inherits again)").action(async (path: string) => {
    await ctx.client().request('DELETE', url(path));
    ctx.out(`removed the init command of ${path}\n`);
  });
}
