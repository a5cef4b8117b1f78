/**
 * `canopy discovery service ls|show|set|rm` and `canopy discovery alias ls|set|rm`: what an operator
 * otherwise did with curl. `service set` changes only what its flags name: it reads the current
 * definition and sends it back with those fields replaced (the API's PUT replaces it whole).
 */
import type { Command } from 'commander';
import { CanopyApiError } from '@canopy/sdk/client';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { fields, table, UsageError } from '../output.ts';
import { collect, integer } from './options.ts';

interface Port {
  name: string;
  port: number;
}

/** The parts of the API's ServiceView the CLI shows (kept here so the command loads without zod). */
interface Service {
  path: string;
  ports: Port[];
  lb: { algorithm: string; hashKey?: string };
  protectThreshold: number;
  zoneAware: boolean;
  zoneMinHealthy: number;
  passesBeforePassing: number;
  failuresBeforeCritical: number;
  instanceCount: number;
  healthyCount: number;
  dependencies: string[];
  version: number;
  updatedAt: string;
}

interface Alias {
  path: string;
  target: string;
  resolvesTo: string | null;
  chain: string[];
  updatedAt: string;
}

interface SetOptions extends JsonOption {
  port: string[];
  lb?: string;
  hashKey?: string;
  protectThreshold?: number;
  zoneAware?: boolean;
  zoneMinHealthy?: number;
  passesBeforePassing?: number;
  failuresBeforeCritical?: number;
}

const seg = (path: string) => encodeURIComponent(path);
const ports = (ps: Port[]) => ps.map((p) => `${p.name}:${p.port}`).join(',');

/** `name:port` (or a bare port, named `http`) as a declared port. */
function parsePort(spec: string): Port {
  const m = /^(?:([a-z][a-z0-9-]{0,14}):)?(\d{1,5})$/.exec(spec);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new UsageError(`--port '${spec}' must look like NAME:PORT (e.g. http:8080) or PORT`);
  return { name: m[1] ?? 'http', port };
}

function ratio(value: string): number {
  const n = Number(value);
  if (!/^\d*\.?\d+$/.test(value) || n > 1) throw new UsageError(`--protect-threshold '${value}' must be a number from 0 to 1`);
  return n;
}

/** The service or undefined when there is none at `path` yet. */
async function current(ctx: CliContext, path: string): Promise<Service | undefined> {
  try {
    return await ctx.client().request<Service>('GET', `/services/${seg(path)}`);
  } catch (err) {
    if (err instanceof CanopyApiError && err.status === 404) return undefined;
    throw err;
  }
}

/** Adds `discovery service …` under `discovery`. */
export function registerServices(discovery: Command, ctx: CliContext): void {
  const service = discovery.command('service').description('list, show, define and delete discovery services');

  withJson(service.command('ls').description('list services (in a subtree with --under)'))
    .option('--under <path>', 'only services in this subtree')
    .action(async (opts: JsonOption & { under?: string }) => {
      const page = await ctx.client().request<{ items: Service[] }>('GET', `/services${opts.under ? `?under=${seg(opts.under)}` : ''}`);
      ctx.print(opts.json, page.items, () =>
        table(['path', 'ports', 'lb', 'healthy'], page.items.map((s) => [s.path, ports(s.ports), s.lb.algorithm, `${s.healthyCount}/${s.instanceCount}`]), '(no services)\n'),
      );
    });

  withJson(service.command('show <path>').description('show one service')).action(async (path: string, opts: JsonOption) => {
    const s = await ctx.client().request<Service>('GET', `/services/${seg(path)}`);
    ctx.print(opts.json, s, () =>
      fields([
        ['path', s.path], ['ports', ports(s.ports)], ['lb', `${s.lb.algorithm}${s.lb.hashKey ? ` (hash ${s.lb.hashKey})` : ''}`],
        ['healthy', `${s.healthyCount} of ${s.instanceCount}`], ['protect threshold', s.protectThreshold], ['zone aware', s.zoneAware ? `yes (min ${s.zoneMinHealthy} healthy)` : 'no'],
        ['flap damping', `${s.passesBeforePassing} pass(es) back, ${s.failuresBeforeCritical} failure(s) out`], ['dependencies', s.dependencies.join(', ')], ['version', s.version], ['updated', s.updatedAt],
      ]),
    );
  });

  withJson(service.command('set <path>').description('define a service on a node, or change the fields named'))
    .option('--port <name:port>', 'a declared port (repeatable; replaces the list; required for a new service)', collect, [])
    .option('--lb <algorithm>', 'wrr, consistent_hash, maglev, random or least_request')
    .option('--hash-key <key>', 'what consistent_hash and maglev hash, e.g. $request_uri')
    .option('--protect-threshold <ratio>', 'below this share of healthy instances, answer with all of them', ratio)
    .option('--zone-aware', 'prefer instances in the caller\'s zone')
    .option('--no-zone-aware', 'answer across zones')
    .option('--zone-min-healthy <n>', 'fewer healthy same-zone instances than this and the answer spans zones', integer(1, 1000))
    .option('--passes-before-passing <n>', 'passing heartbeats before a critical instance serves again', integer(1, 100))
    .option('--failures-before-critical <n>', 'failing heartbeats before a serving instance turns critical', integer(1, 100))
    .action(async (path: string, opts: SetOptions) => {
      const was = await current(ctx, path);
      if (!was && opts.port.length === 0) throw new UsageError(`'${path}' has no service yet: name its ports with --port NAME:PORT`);
      const lb = opts.lb !== undefined || opts.hashKey !== undefined ? { algorithm: opts.lb ?? was?.lb.algorithm ?? 'wrr', ...(opts.hashKey ? { hashKey: opts.hashKey } : {}) } : was?.lb;
      const body = {
        ports: opts.port.length ? opts.port.map(parsePort) : was?.ports,
        ...(lb ? { lb } : {}),
        protectThreshold: opts.protectThreshold ?? was?.protectThreshold,
        zoneAware: opts.zoneAware ?? was?.zoneAware,
        zoneMinHealthy: opts.zoneMinHealthy ?? was?.zoneMinHealthy,
        passesBeforePassing: opts.passesBeforePassing ?? was?.passesBeforePassing,
        failuresBeforeCritical: opts.failuresBeforeCritical ?? was?.failuresBeforeCritical,
      };
      const s = await ctx.client().request<Service>('PUT', `/services/${seg(path)}`, body);
      ctx.print(opts.json, s, () => `${was ? 'updated' : 'created'} service ${s.path} (${ports(s.ports)}, ${s.lb.algorithm})\n`);
    });

  service
    .command('rm <path>')
    .description('delete a service (refused while aliases name it; --force also drops its instances)')
    .option('--force', 'delete even with registered instances')
    .action(async (path: string, opts: { force?: boolean }) => {
      await ctx.client().request('DELETE', `/services/${seg(path)}${opts.force ? '?force=true' : ''}`);
      ctx.out(`deleted service ${path}\n`);
    });
}

/** Adds `discovery alias …` under `discovery`. */
export function registerAliases(discovery: Command, ctx: CliContext): void {
  const alias = discovery.command('alias').description('list, point and delete aliases (a name that resolves as another service)');

  withJson(alias.command('ls').description('list aliases (in a subtree with --under)'))
    .option('--under <path>', 'only aliases in this subtree')
    .action(async (opts: JsonOption & { under?: string }) => {
      const page = await ctx.client().request<{ items: Alias[] }>('GET', `/aliases${opts.under ? `?under=${seg(opts.under)}` : ''}`);
      ctx.print(opts.json, page.items, () =>
        table(['alias', 'target', 'resolves to'], page.items.map((a) => [a.path, a.target, a.resolvesTo ?? '(dangling)']), '(no aliases)\n'),
      );
    });

  withJson(alias.command('set <path> <target>').description('point an alias at a service (or another alias); switches it if it exists'))
    .action(async (path: string, target: string, opts: JsonOption) => {
      const a = await ctx.client().request<Alias>('PUT', `/aliases/${seg(path)}`, { target });
      ctx.print(opts.json, a, () => `${a.path} → ${a.chain.slice(1).join(' → ') || a.target}\n`);
    });

  alias
    .command('rm <path>')
    .description('delete an alias')
    .action(async (path: string) => {
      await ctx.client().request('DELETE', `/aliases/${seg(path)}`);
      ctx.out(`deleted alias ${path}\n`);
    });
}
