/**
 * `canopy proc ls|start|stop|restart|logs --under PATH`: one way to see and drive every supervised
 * app of a subtree (God's promise). `set --file` declares a node's process from JSON (the
 * ProcessSpec), `show` and `rm` read and drop it. `logs --follow` streams the app's output live
 * from its agent.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ProcessDeclarationView, ProcessView } from '@canopy/core';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { table, UsageError } from '../output.ts';
import { sseEvents } from '../sse.ts';

interface UnderOption extends JsonOption {
  under?: string;
}

function under(o: UnderOption): string {
  if (!o.under) throw new UsageError('name the node: --under PATH');
  return o.under;
}

const nodeUrl = (path: string, rest: string) => `/nodes/${encodeURIComponent(path)}/${rest}`;

function uptime(s: number | null): string {
  if (s === null) return '';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
}

function renderList(items: ProcessView[]): string {
  const rows = items.map((p) => [p.node, p.hostname, p.flapping ? 'FLAPPING' : p.state, p.pid ?? '', uptime(p.uptimeSeconds), p.restarts, p.health, p.generation ?? '', p.agent === 'connected' ? '' : p.agent, p.message]);
  return table(['node', 'host', 'state', 'pid', 'uptime', 'restarts', 'health', 'gen', 'agent', 'message'], rows, '(no processes)\n');
}

const renderDecl = (d: ProcessDeclarationView[]) => d.map((x) => `${x.node}: ${x.desired}, generation ${x.generation}\n`).join('');

/** Adds `canopy proc`. */
export function registerProc(program: Command, ctx: CliContext): void {
  const proc = program.command('proc').description('supervised processes of a subtree: ls, start, stop, restart, logs; set, show, rm a declaration');

  withJson(proc.command('ls').description('every machine\'s process at or under the node: state, pid, uptime, restarts, health').option('--under <path>', 'the node'))
    .action(async (o: UnderOption) => {
      const r = await ctx.client().request<{ items: ProcessView[] }>('GET', nodeUrl(under(o), 'processes'));
      ctx.print(o.json, r.items, () => renderList(r.items));
    });

  const verbs = { start: 'start the processes (a stopped node gets fresh tasks)', stop: 'stop them: drained in discovery first, then signalled', restart: 'restart them one machine at a time, each once the previous is healthy' };
  for (const [verb, what] of Object.entries(verbs)) {
    withJson(proc.command(verb).description(`${what}, at or under the node`).option('--under <path>', 'the node'))
      .action(async (o: UnderOption) => {
        const r = await ctx.client().request<{ items: ProcessDeclarationView[] }>('POST', nodeUrl(under(o), `processes/${verb}`));
        ctx.print(o.json, r.items, () => renderDecl(r.items));
      });
  }

  withJson(proc.command('set').description('declare the node\'s process from a JSON file (argv, cwd, env, user, ports, health, restart, logs…)'))
    .option('--under <path>', 'the node')
    .requiredOption('--file <file>', 'the ProcessSpec as JSON ("-" for stdin)')
    .action(async (o: UnderOption & { file: string }) => {
      let body: unknown;
      try {
        body = JSON.parse(readFileSync(o.file === '-' ? 0 : o.file, 'utf8'));
      } catch (err) {
        throw new UsageError(`--file ${o.file}: ${(err as Error).message}`);
      }
      const d = await ctx.client().request<ProcessDeclarationView>('PUT', nodeUrl(under(o), 'process'), body);
      ctx.print(o.json, d, () => renderDecl([d]));
    });

  withJson(proc.command('show').description('the node\'s declaration').option('--under <path>', 'the node'))
    .action(async (o: UnderOption) => {
      const d = await ctx.client().request<ProcessDeclarationView>('GET', nodeUrl(under(o), 'process'));
      ctx.print(o.json, d, () => `${renderDecl([d])}${JSON.stringify(d.spec, null, 2)}\n`);
    });

  withJson(proc.command('rm').description('drop the node\'s declaration: its processes are stopped (drained first)').option('--under <path>', 'the node'))
    .action(async (o: UnderOption) => {
      const path = under(o);
      await ctx.client().request('DELETE', nodeUrl(path, 'process'));
      ctx.print(o.json, { removed: path }, () => `removed the process of ${path}\n`);
    });

  withJson(proc.command('logs').description('the output of one host\'s process; --follow streams it live'))
    .option('--under <path>', 'the node')
    .requiredOption('--host <hostname>', 'the machine')
    .option('--node <path>', 'which node, when several under --under declare a process')
    .option('--stderr', 'stderr instead of stdout')
    .option('--lines <n>', 'how many of the last lines', '100')
    .option('--follow', 'keep printing what it writes')
    .action(async (o: UnderOption & { host: string; node?: string; stderr?: boolean; lines: string; follow?: boolean }) => {
      if (!/^\d{1,5}$/.test(o.lines)) throw new UsageError(`--lines '${o.lines}' must be a whole number`);
      const q = new URLSearchParams({ host: o.host, stream: o.stderr ? 'stderr' : 'stdout', lines: o.lines, ...(o.node ? { node: o.node } : {}) });
      const path = nodeUrl(under(o), 'processes/logs');
      if (!o.follow) {
        const r = await ctx.client().request<{ text: string }>('GET', `${path}?${q}`);
        return ctx.print(o.json, r, () => r.text);
      }
      q.set('follow', 'true');
      const explain = async () => {
        q.delete('follow');
        await ctx.client().request('GET', `${path}?${q}`); // the API's own error (404, 409…)
      };
      for await (const { event, data } of sseEvents(ctx, `${path}?${q}`, explain)) {
        const d = data as { text?: string; error?: string };
        if (event === 'log') ctx.out(o.json ? `${JSON.stringify({ text: d.text ?? '' })}\n` : (d.text ?? ''));
        else if (event === 'end') {
          if (d.error) throw new UsageError(d.error);
          return;
        }
      }
    });
}
