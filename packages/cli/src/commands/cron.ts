/**
 * `canopy cron ls|set|rm|runs`: a node's scheduled jobs (inherited below it), where each entry comes
 * from, the next and last runs, and the run history with output. `set NAME -- CMD ARGS` runs the
 * argv as is; `--script FILE` runs the file with /bin/sh; `--disable` switches an inherited entry
 * off on the node and below.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CronRunPage, CronRunView, CronTableView } from '@canopy/core';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { table, UsageError } from '../output.ts';

interface SetOptions extends JsonOption {
  under?: string;
  schedule?: string;
  tz?: string;
  overlap?: string;
  user?: string;
  timeout?: string;
  outputLimit?: string;
  script?: string;
  description?: string;
  env?: string[];
  disable?: boolean;
}

function int(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,9}$/.test(v)) throw new UsageError(`${flag} '${v}' must be a whole number`);
  return Number(v);
}

function under(o: { under?: string }): string {
  if (!o.under) throw new UsageError('name the node: --under PATH');
  return o.under;
}

const entryPath = (path: string, name: string) => `/nodes/${encodeURIComponent(path)}/cron/${encodeURIComponent(name)}`;
const when = (iso: string | null | undefined) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '');

function renderTable(t: CronTableView): string {
  const rows = t.entries.map((e) => [
    e.name,
    e.spec.schedule,
    e.spec.timezone,
    e.spec.overlap,
    e.spec.user,
    e.own ? (e.overrides ? `here (overrides ${e.overrides})` : 'here') : e.from,
    when(e.nextRuns[0]),
    e.lastRun ? `${e.lastRun.state} ${when(e.lastRun.scheduledAt)} on ${e.lastRun.hostname}` : '',
  ]);
  const off = t.disabled.map((d) => `disabled: ${d.name}${d.from ? ` (from ${d.from})` : ''} at ${d.disabledAt}\n`).join('');
  return table(['name', 'schedule', 'tz', 'overlap', 'user', 'from', 'next', 'last run'], rows, '(no scheduled jobs)\n') + off;
}

/** Adds `canopy cron`. */
export function registerCron(program: Command, ctx: CliContext): void {
  const cron = program.command('cron').description("a node's scheduled jobs, inherited below it: list, set, disable, remove, runs");

  withJson(cron.command('ls').description('the entries in effect at a node, where each comes from, next and last run').option('--under <path>', 'the node'))
    .action(async (o: JsonOption & { under?: string }) => {
      const t = await ctx.client().request<CronTableView>('GET', `/nodes/${encodeURIComponent(under(o))}/cron`);
      ctx.print(o.json, t, () => renderTable(t));
    });

  withJson(cron.command('set <name>').description('set an entry on a node (argv after --, or --script FILE); --disable switches an inherited one off'))
    .option('--under <path>', 'the node')
    .option('--schedule <cron>', 'cron expression: 5 fields, or 6 with seconds first ("*/5 * * * *")')
    .option('--tz <zone>', 'IANA time zone the schedule is read in', 'UTC')
    .option('--overlap <policy>', 'when a run is still going: skip, allow or queue-one', 'skip')
    .option('--user <name>', 'the OS user to run as', 'root')
    .option('--timeout <seconds>', 'kill a run after this long', '3600')
    .option('--output-limit <bytes>', 'bytes of stdout and of stderr kept per run (head and tail)')
    .option('--script <file>', 'run this file with /bin/sh instead of a command')
    .option('--description <text>', 'what it is for')
    .option('--env <NAME=value...>', 'environment variables for the command')
    .option('--disable', 'switch the inherited entry of this name off here and below')
    .argument('[command...]', 'the command after --')
    .action(async (name: string, argv: string[], o: SetOptions) => {
      const path = under(o);
      let body: unknown;
      if (o.disable) {
        if (argv.length > 0 || o.script || o.schedule) throw new UsageError('--disable takes no command, --script or --schedule');
        body = { disabled: true };
      } else {
        if (!o.schedule) throw new UsageError('give --schedule, e.g. --schedule "0 3 * * *"');
        if (o.script && argv.length > 0) throw new UsageError('give a command after -- or --script FILE, not both');
        if (!o.script && argv.length === 0) throw new UsageError('give the command after --, e.g. `canopy cron set rotate --under corp --schedule "0 * * * *" -- logrotate /etc/logrotate.conf`');
        const env: Record<string, string> = {};
        for (const pair of o.env ?? []) {
          const i = pair.indexOf('=');
          if (i < 1) throw new UsageError(`--env '${pair}' must be NAME=value`);
          env[pair.slice(0, i)] = pair.slice(i + 1);
        }
        body = {
          schedule: o.schedule,
          timezone: o.tz,
          overlap: o.overlap,
          user: o.user,
          timeoutSeconds: int('--timeout', o.timeout),
          ...(o.outputLimit ? { outputLimitBytes: int('--output-limit', o.outputLimit) } : {}),
          ...(o.script ? { script: readFileSync(o.script, 'utf8') } : { argv }),
          ...(o.description ? { description: o.description } : {}),
          ...(Object.keys(env).length > 0 ? { env } : {}),
        };
      }
      const t = await ctx.client().request<CronTableView>('PUT', entryPath(path, name), body);
      ctx.print(o.json, t, () => renderTable(t));
    });

  withJson(cron.command('rm <name>').description("remove a node's own entry or mask (an inherited entry applies again)").option('--under <path>', 'the node'))
    .action(async (name: string, o: JsonOption & { under?: string }) => {
      const path = under(o);
      await ctx.client().request('DELETE', entryPath(path, name));
      ctx.print(o.json, { removed: name, node: path }, () => `removed ${name} from ${path}\n`);
    });

  withJson(cron.command('runs <name>').description("an entry's runs on the machines of a node, newest first; --id shows one with its output"))
    .option('--under <path>', 'the node')
    .option('--host <hostname>', 'only this machine')
    .option('--limit <n>', 'how many', '20')
    .option('--id <run>', 'show this run with its output')
    .action(async (name: string, o: JsonOption & { under?: string; host?: string; limit: string; id?: string }) => {
      const path = under(o);
      if (o.id) {
        const r = await ctx.client().request<CronRunView>('GET', `${entryPath(path, name)}/runs/${encodeURIComponent(o.id)}`);
        return ctx.print(o.json, r, () => {
          const head = `run ${r.id} of ${r.name} on ${r.hostname}: ${r.state}${r.exitCode === null ? '' : `, exit ${r.exitCode}`}${r.reason ? ` (${r.reason})` : ''}\n`;
          return `${head}${r.stdout}${r.stdout && !r.stdout.endsWith('\n') ? '\n' : ''}${r.stderr ? `--- stderr\n${r.stderr}${r.stderr.endsWith('\n') ? '' : '\n'}` : ''}`;
        });
      }
      const q = new URLSearchParams({ limit: String(int('--limit', o.limit) ?? 20), ...(o.host ? { hostname: o.host } : {}) });
      const page = await ctx.client().request<CronRunPage>('GET', `${entryPath(path, name)}/runs?${q}`);
      ctx.print(o.json, page.items, () =>
        table(['id', 'host', 'state', 'exit', 'scheduled', 'ms', 'output'], page.items.map((r) => [r.id, r.hostname, r.state, r.exitCode ?? '', when(r.scheduledAt), r.durationMs ?? '', r.reason && r.state !== 'succeeded' ? r.reason : r.lastLine]), '(no runs)\n'),
      );
    });
}
