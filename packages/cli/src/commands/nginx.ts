/**
 * `canopy nginx …` and `canopy lvs …`: render, plan, apply, roll back and diff the generated
 * config of a cluster; `canopy nginx domain|service` (nginx-settings.ts) edit the nginx settings.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { createClient, type CanopyClient } from '@canopy/sdk/client';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { table, UsageError } from '../output.ts';
import { registerNginxSettings } from './nginx-settings.ts';
import { integer } from './options.ts';
import { registerStatus } from './rollout-status.ts';

interface Version {
  version: number;
  sha256: string;
  author: string;
  reason: string;
  rollbackOf: number | null;
  createdAt: string;
  /** Only the metadata remains (the server's retention policy); older servers omit it. */
  contentPruned?: boolean;
}
interface Config extends Version {
  cluster: string;
  files: { path: string; content: string }[];
}
interface PlanOrigin {
  kind: string;
  target: string;
  change: string;
  by: string;
  at: string;
  diff: string;
}
interface Plan {
  cluster: string;
  baseVersion: number;
  changed: boolean;
  diff: string;
  added: number;
  removed: number;
  /** The current version is a rollback and the settings moved away from it. */
  note?: string;
  /** The diff split by whose change each part is (nginx). */
  origins?: PlanOrigin[];
}
interface Applied {
  cluster: string;
  published: boolean;
  version: Version;
  diff: string;
  checkOutput: string;
  restored?: { restored: string[]; notRestored: { target: string; reason: string }[] };
}
interface VersionDiff {
  cluster: string;
  from: number;
  to: number;
  diff: string;
  added: number;
  removed: number;
}

// A generated file name: nothing that could leave the output directory.
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * A client that remembers the last problem document, because a refused config carries the
 * program's output (`nginx -t`) in a field the SDK's error does not keep.
 */
function clientWithProblems(ctx: CliContext): { client: CanopyClient; problem(): Record<string, unknown> | undefined } {
  ctx.client(); // the usual "not logged in" message
  const { url, token } = ctx.connection();
  let last: Record<string, unknown> | undefined;
  const client = createClient({
    url,
    token,
    fetch: async (input, init) => {
      const res = await fetch(input, init);
      last = res.ok ? undefined : ((await res.clone().json().catch(() => undefined)) as Record<string, unknown> | undefined);
      return res;
    },
  });
  return { client, problem: () => last };
}

type Kind = 'nginx' | 'lvs';
const CHECKER: Record<Kind, string> = { nginx: 'nginx -t', lvs: 'keepalived -t' };

/** The cluster's URL prefix, with the path checked so it cannot reshape the URL. */
function clusterUrl(kind: Kind, path: string): string {
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(path)) throw new UsageError(`'${path}' is not a node path`);
  return `/${kind}/clusters/${path}`;
}

/** Write each file to `dir` (created if missing), each through a temporary name so readers never see half a file. */
export async function writeConfig(dir: string, files: Config['files']): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const out: string[] = [];
  for (const f of files) {
    if (!FILE_NAME.test(f.path)) throw new Error(`the server sent an unsafe file name '${f.path}'`);
    const target = join(dir, f.path);
    await writeFile(`${target}.tmp`, f.content);
    await rename(`${target}.tmp`, target);
    out.push(target);
  }
  return out;
}

/** What a rollback did to the settings, for people: what diverges is said loudly. */
function restoredText(r: Applied['restored']): string {
  if (!r) return '';
  const done = r.restored.length > 0 ? `settings restored: ${r.restored.join(', ')}\n` : '';
  const left = r.notRestored.map((n) => `WARNING: ${n.target} not restored (${n.reason}); the next apply would publish its current settings\n`).join('');
  return done + left;
}

/** What apply and rollback print for people. */
export function appliedText(a: Applied): string {
  if (!a.published) return `no changes: v${a.version.version} of ${a.cluster} is current\n${restoredText(a.restored)}`;
  const lines = a.diff.split('\n');
  const added = lines.filter((l) => /^\+(?!\+\+ )/.test(l)).length;
  const removed = lines.filter((l) => /^-(?!-- )/.test(l)).length;
  return `published v${a.version.version} of ${a.cluster} (+${added} -${removed} lines)${a.version.rollbackOf ? `, rolling back to v${a.version.rollbackOf}` : ''}\n${restoredText(a.restored)}`;
}

/** A plan for people: each part under whose change it is, when the server says. */
export function planText(plan: Plan): string {
  if (!plan.changed) return `no changes: v${plan.baseVersion} is current\n`;
  const note = plan.note ? `NOTE: ${plan.note}\n` : '';
  if (!plan.origins || plan.origins.length === 0) return note + (plan.diff || `settings change without a file change (base v${plan.baseVersion})\n`);
  const parts = plan.origins.map((o) => `# ${o.kind} ${o.target} ${o.change}${o.by ? ` by ${o.by}` : ''}${o.at ? ` at ${o.at}` : ''}\n${o.diff}`);
  return note + parts.join('');
}

/** Adds `canopy nginx`. */
export function registerNginx(program: Command, ctx: CliContext): void {
  registerNginxSettings(registerProxy('nginx', program, ctx), ctx);
}

/** Adds `canopy lvs` (keepalived virtual_server configs). */
export function registerLvs(program: Command, ctx: CliContext): void {
  registerProxy('lvs', program, ctx);
}

function registerProxy(kind: Kind, program: Command, ctx: CliContext): Command {
  const group = program.command(kind).description(`generated ${kind === 'nginx' ? 'nginx' : 'keepalived (LVS)'} configs of clusters: render, plan, apply, roll back, diff`);
  const clusterUrlOf = (path: string) => clusterUrl(kind, path);

  /** Runs `work`; a config the real program refused is shown with its output. */
  async function withProblems<T>(work: (client: CanopyClient) => Promise<T>): Promise<T> {
    const { client, problem } = clientWithProblems(ctx);
    try {
      return await work(client);
    } catch (err) {
      const p = problem();
      if (p?.['code'] === 'config_invalid' && typeof p['output'] === 'string') ctx.note(`${String(p['program'] ?? 'the check')} said:\n${p['output']}`);
      throw err;
    }
  }

  withJson(group.command('render <cluster>').description('write the files of the published config (or of --version) into a directory'))
    .requiredOption('-o, --out <dir>', 'directory to write the files into')
    .option('--version <n>', 'an earlier version instead of the current one', integer(1, 2 ** 31 - 1))
    .action(async (cluster: string, opts: JsonOption & { out: string; version?: number }) => {
      const base = clusterUrlOf(cluster);
      const config = await ctx.client().request<Config>('GET', opts.version ? `${base}/versions/${opts.version}` : `${base}/config`);
      const written = await writeConfig(resolve(opts.out), config.files);
      ctx.print(opts.json, { cluster: config.cluster, version: config.version, sha256: config.sha256, files: written }, () =>
        `v${config.version} of ${config.cluster} (${config.reason}):\n${written.map((w) => `  ${w}\n`).join('')}`,
      );
    });

  withJson(group.command('plan <cluster>').description('show the diff that apply would publish; changes nothing')).action(async (cluster: string, opts: JsonOption) => {
    const plan = await ctx.client().request<Plan>('POST', `${clusterUrlOf(cluster)}/plan`);
    ctx.print(opts.json, plan, () => planText(plan));
  });

  withJson(group.command('apply <cluster>').description(`render the settings, check them with ${CHECKER[kind]} and publish a new version`))
    .requiredOption('-m, --reason <text>', 'why (kept with the version)')
    .option('--diff', 'also print the published diff')
    .action(async (cluster: string, opts: JsonOption & { reason: string; diff?: boolean }) => {
      const a = await withProblems((c) => c.request<Applied>('POST', `${clusterUrlOf(cluster)}/apply`, { reason: opts.reason }));
      ctx.print(opts.json, a, () => appliedText(a) + (opts.diff ? a.diff : ''));
    });

  withJson(group.command('rollback <cluster> <version>').description("publish an earlier version's settings again, with the current backends"))
    .option('-m, --reason <text>', 'why (default: "rollback to vN")')
    .action(async (cluster: string, version: string, opts: JsonOption & { reason?: string }) => {
      const n = integer(1, 2 ** 31 - 1)(version);
      const body = opts.reason ? { version: n, reason: opts.reason } : { version: n };
      const a = await withProblems((c) => c.request<Applied>('POST', `${clusterUrlOf(cluster)}/rollback`, body));
      ctx.print(opts.json, a, () => appliedText(a));
    });

  withJson(group.command('versions <cluster>').description('list published versions, newest first; old ones may show "content pruned" (no files or diff kept)'))
    .option('-n, --limit <n>', 'how many (1-1000)', integer(1, 1000), 20)
    .action(async (cluster: string, opts: JsonOption & { limit: number }) => {
      const page = await ctx.client().request<{ items: Version[] }>('GET', `${clusterUrlOf(cluster)}/versions?limit=${opts.limit}`);
      ctx.print(opts.json, page.items, () =>
        table(['version', 'at', 'author', 'reason'], page.items.map((v) => [`v${v.version}${v.rollbackOf ? ` (=v${v.rollbackOf})` : ''}${v.contentPruned ? ' (content pruned)' : ''}`, v.createdAt, v.author, v.reason]), '(nothing published)\n'),
      );
    });

  withJson(group.command('diff <cluster> <from> <to>').description('the unified diff between two published versions (either order)')).action(
    async (cluster: string, from: string, to: string, opts: JsonOption) => {
      const [a, b] = [integer(1, 2 ** 31 - 1)(from), integer(1, 2 ** 31 - 1)(to)];
      const d = await ctx.client().request<VersionDiff>('GET', `${clusterUrlOf(cluster)}/versions/${a}/diff/${b}`);
      ctx.print(opts.json, d, () => d.diff || `v${a} and v${b} of ${d.cluster} have the same files\n`);
    },
  );
  registerStatus(group, ctx, clusterUrlOf);
  return group;
}
