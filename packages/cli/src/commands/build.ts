/**
 * `canopy build run|ls|show|log|cancel` and `canopy build settings get|set`: builds of a service
 * node on its build pool. `run --follow` and `log --follow` stream the log live (the build's SSE
 * log) and exit 1 unless the build succeeded.
 */
import type { Command } from 'commander';
import type { BuildSettingsView, BuildView } from '@canopy/core';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { table, UsageError } from '../output.ts';
import { sseEvents } from '../sse.ts';

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

function id(v: string): number {
  if (!/^\d{1,9}$/.test(v)) throw new UsageError(`build id '${v}' must be a whole number`);
  return Number(v);
}

function summary(b: BuildView): string {
  const where = b.hostname ? ` on ${b.hostname}` : '';
  const art = b.artifact ? `, stored ${b.nodePath}@${b.artifact.version} (${b.artifact.size} bytes, sha256 ${b.artifact.sha256.slice(0, 12)}…)` : '';
  const why = b.reason ? ` (${b.reason})` : '';
  return `build ${b.id} of ${b.nodePath} ${b.state}${why}${where}: ${b.ref}${b.commit ? ` at ${b.commit.slice(0, 12)}` : ''}${art}\n`;
}

function details(b: BuildView): string {
  const rows: [string, string][] = [
    ['repo', b.repo], ['ref', b.ref], ['commit', b.commit ?? ''], ['command', b.command], ['output', b.outputPath], ['version', b.artifact?.version ?? b.version ?? '(derived)'],
    ['pool', b.pool], ['host', b.hostname ?? ''], ['task', b.taskState ?? ''], ['by', b.createdBy], ['created', b.createdAt], ['finished', b.finishedAt ?? ''],
  ];
  return summary(b) + rows.map(([k, v]) => `  ${k.padEnd(8)} ${v}\n`).join('');
}

/** Print the log of build `buildId`; with `follow`, live until it ends. Returns the final build. */
async function streamLog(ctx: CliContext, buildId: number, follow: boolean): Promise<BuildView | undefined> {
  if (!follow) {
    ctx.out(await ctx.client().request<string>('GET', `/builds/${buildId}/log`, undefined, { accept: 'text/plain' }));
    return undefined;
  }
  let last: BuildView | undefined;
  const explain = () => ctx.client().request('GET', `/builds/${buildId}`); // the API's own error (404, 401…)
  for await (const { event, data } of sseEvents(ctx, `/builds/${buildId}/log`, explain)) {
    const d = data as { text?: string } & BuildView;
    if (event === 'log') ctx.out(d.text ?? '');
    else if (event === 'reset') ctx.out(`\n--- the log as kept ---\n${d.text ?? ''}`);
    else if (event === 'build') {
      last = d;
      ctx.note(summary(d));
    } else if (event === 'end') return ctx.client().request<BuildView>('GET', `/builds/${buildId}`);
  }
  return last;
}

/** Adds `canopy build`. */
export function registerBuild(program: Command, ctx: CliContext): void {
  const build = program.command('build').description('build a service from git on its build pool into the artifact repository');

  withJson(build.command('run <path>').description('build the service node <path>: fetch --repo at --ref, run --command in the checkout, store --output as tar.gz'))
    .requiredOption('--repo <url>', 'the git repository (https://, ssh://, git://, file:///, user@host:path)')
    .option('--ref <ref>', 'branch, tag or commit', 'main')
    .requiredOption('--command <shell>', 'the build command, run by /bin/sh -c in the checkout')
    .requiredOption('--output <dir>', 'the directory (relative to the checkout) to package')
    .option('--version <version>', 'the artifact version (default: <ref>-<commit 12 hex>)')
    .option('--env <K=V...>', 'environment variables for the build')
    .option('--timeout <seconds>', 'kill the build after this long', '3600')
    .option('--follow', 'stream the log until the build ends; exit 1 unless it succeeded')
    .action(async (path: string, o: JsonOption & { repo: string; ref: string; command: string; output: string; version?: string; env?: string[]; timeout: string; follow?: boolean }) => {
      const env: Record<string, string> = {};
      for (const kv of o.env ?? []) {
        const at = kv.indexOf('=');
        if (at <= 0) throw new UsageError(`--env '${kv}' must be NAME=value`);
        env[kv.slice(0, at)] = kv.slice(at + 1);
      }
      if (!/^\d{1,7}$/.test(o.timeout)) throw new UsageError(`--timeout '${o.timeout}' must be a whole number of seconds`);
      const b = await ctx.client().request<BuildView>('POST', '/builds', {
        nodePath: path, repo: o.repo, ref: o.ref, command: o.command, outputPath: o.output, env, timeoutSeconds: Number(o.timeout), ...(o.version ? { version: o.version } : {}),
      });
      if (!o.follow) return ctx.print(o.json, b, () => summary(b));
      // With --json the log stays off stdout: the build's final state is the one JSON document.
      const final = o.json ? await waitFor(ctx, b.id) : ((await streamLog(ctx, b.id, true)) ?? b);
      if (o.json) ctx.print(true, final, () => '');
      if (final.state !== 'succeeded') process.exitCode = 1;
    });

  withJson(build.command('ls').description('builds of a subtree, newest first').option('--under <path>', 'the subtree (superusers: every build without it)').option('--limit <n>', 'at most this many', '50'))
    .action(async (o: JsonOption & { under?: string; limit: string }) => {
      const q = new URLSearchParams({ limit: o.limit, ...(o.under ? { under: o.under } : {}) });
      const page = await ctx.client().request<{ items: BuildView[] }>('GET', `/builds?${q}`);
      ctx.print(o.json, page.items, () =>
        table(['id', 'node', 'state', 'ref', 'commit', 'version', 'host', 'by', 'created'], page.items.map((b) => [b.id, b.nodePath, b.state, b.ref, (b.commit ?? '').slice(0, 12), b.artifact?.version ?? b.version ?? '', b.hostname ?? '', b.createdBy, b.createdAt]), '(no builds)\n'),
      );
    });

  withJson(build.command('show <id>').description('one build: source, state, machine and artifact')).action(async (v: string, o: JsonOption) => {
    const b = await ctx.client().request<BuildView>('GET', `/builds/${id(v)}`);
    ctx.print(o.json, b, () => details(b));
  });

  build.command('log <id>').description("a build's log").option('--follow', 'stream it live until the build ends; exit 1 unless it succeeded').action(async (v: string, o: { follow?: boolean }) => {
    const end = await streamLog(ctx, id(v), o.follow === true);
    if (o.follow && end?.state !== 'succeeded') process.exitCode = 1;
  });

  withJson(build.command('cancel <id>').description('cancel a build: a queued one never runs, a running one is killed (its whole process group)')).action(async (v: string, o: JsonOption) => {
    const b = await ctx.client().request<BuildView>('POST', `/builds/${id(v)}/cancel`);
    ctx.print(o.json, b, () => summary(b));
  });

  const settings = build.command('settings').description("a node's build settings (pool, builds per machine, OS user), inherited down the tree");
  const url = (path: string) => `/nodes/${encodeURIComponent(path)}/build-settings`;
  const text = (s: BuildSettingsView) => {
    const from = (f: string | null) => (f === null ? 'default' : f === s.nodePath ? 'this node' : `from ${f}`);
    return `${s.nodePath}: pool ${s.effective.pool.value ?? '(none)'} (${from(s.effective.pool.from)}), ${s.effective.maxPerMachine.value} per machine (${from(s.effective.maxPerMachine.from)}), as ${s.effective.user.value} (${from(s.effective.user.from)})\n`;
  };
  withJson(settings.command('get <path>').description('what applies at the node, and where it comes from')).action(async (path: string, o: JsonOption) => {
    const s = await ctx.client().request<BuildSettingsView>('GET', url(path));
    ctx.print(o.json, s, () => text(s));
  });
  withJson(settings.command('set <path>').description('set the node\'s own settings ("-" clears one)'))
    .option('--pool <path>', 'the tree node whose machines build this subtree')
    .option('--max-per-machine <n>', 'builds at once per machine of the pool')
    .option('--user <name>', 'the OS user builds run as')
    .action(async (path: string, o: JsonOption & { pool?: string; maxPerMachine?: string; user?: string }) => {
      const clear = <T>(v: string | undefined, f: (s: string) => T) => (v === undefined ? undefined : v === '-' ? null : f(v));
      const body = { pool: clear(o.pool, String), maxPerMachine: clear(o.maxPerMachine, (v) => {
        if (!/^\d{1,2}$/.test(v)) throw new UsageError(`--max-per-machine '${v}' must be a whole number`);
        return Number(v);
      }), user: clear(o.user, String) };
      const s = await ctx.client().request<BuildSettingsView>('PUT', url(path), JSON.parse(JSON.stringify(body)));
      ctx.print(o.json, s, () => text(s));
    });
}

async function waitFor(ctx: CliContext, buildId: number): Promise<BuildView> {
  for (;;) {
    const b = await ctx.client().request<BuildView>('GET', `/builds/${buildId}`);
    if (FINISHED.has(b.state)) return b;
    await new Promise((r) => setTimeout(r, 300));
  }
}
