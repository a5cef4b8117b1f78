/**
 * `canopy nginx domain …` and `canopy nginx service …`: the nginx settings people edit — domains
 * (ports, certificate, owner, delegated URI prefixes) and a service node's routes and upstream.
 * `set` changes only what its flags name and keeps the rest of what is stored.
 */
import type { Command } from 'commander';
import { withJson, type CliContext, type JsonOption } from '../context.ts';
import { fields, table, UsageError } from '../output.ts';
import { collect, integer } from './options.ts';

interface Delegation {
  id: number;
  uriPrefix: string;
  node: string;
  by: string;
  at: string;
}
interface Domain {
  domain: string;
  ports: { port: number; ssl: boolean }[];
  owner: string | null;
  ownerHidden: boolean;
  delegations: Delegation[];
  hiddenDelegations: number;
  clusters: string[];
  accessLogPath?: string;
  errorLogPath?: string;
  sslCertPath?: string;
  sslCertKeyPath?: string;
  version: number;
  updatedAt: string;
  updatedBy: string;
}
interface ServiceSettings {
  path: string;
  domainUris: { domain: string; uri: string }[];
  upstream?: string;
  effectiveUpstream: string;
  port: number;
  balance: { method: string; key?: string; consistent?: boolean };
  attributes: Record<string, unknown>;
  version: number;
  updatedAt: string;
}

const DOMAIN = /^[A-Za-z0-9.-]+$/;
const PATH = /^[a-z0-9-]+(\.[a-z0-9-]+)*$/;

function domainUrl(domain: string): string {
  if (!DOMAIN.test(domain)) throw new UsageError(`'${domain}' is not a domain name`);
  return `/domains/${domain}`;
}

function nodeUrl(path: string): string {
  if (!PATH.test(path)) throw new UsageError(`'${path}' is not a node path`);
  return `/nodes/${path}/nginx`;
}

/** `80`, `443:ssl` → a domain port. */
function port(spec: string): { port: number; ssl: boolean } {
  const m = /^(\d{1,5})(:ssl)?$/.exec(spec);
  if (!m) throw new UsageError(`--port '${spec}' must look like 80 or 443:ssl`);
  return { port: integer(1, 65535)(m[1] as string), ssl: m[2] !== undefined };
}

/** `pay.example.com/api/v2/` → a domain URI. */
function route(spec: string): { domain: string; uri: string } {
  const at = spec.indexOf('/');
  if (at <= 0) throw new UsageError(`--route '${spec}' must look like DOMAIN/URI, e.g. pay.example.com/api/`);
  return { domain: spec.slice(0, at), uri: spec.slice(at) };
}

/** `wrr`, `least_conn`, `ip_hash`, `hash:$request_uri` → a balance setting. */
function balance(spec: string): ServiceSettings['balance'] {
  if (spec.startsWith('hash:')) return { method: 'hash', key: spec.slice(5) };
  if (['wrr', 'least_conn', 'ip_hash'].includes(spec)) return { method: spec };
  throw new UsageError(`--balance '${spec}' must be wrr, least_conn, ip_hash or hash:KEY`);
}

/** `keepalive=32`, `proxy_buffering=false`: the value is JSON when it parses, else a string. */
function attributes(pairs: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of pairs) {
    const at = p.indexOf('=');
    if (at <= 0) throw new UsageError(`--attr '${p}' must look like name=value`);
    const raw = p.slice(at + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string such as 30s
    }
    out[p.slice(0, at)] = value;
  }
  return out;
}

const ownerText = (d: Domain) => d.owner ?? (d.ownerHidden ? '(hidden)' : '(none: superuser only)');
const portsText = (d: Domain) => d.ports.map((p) => `${p.port}${p.ssl ? '/ssl' : ''}`).join(' ');

function domainText(d: Domain): string {
  const rows: [string, string][] = [
    ['domain', d.domain], ['ports', portsText(d)], ['owner', ownerText(d)], ['clusters', d.clusters.join(', ') || '-'],
    ['certificate', d.sslCertPath ? `${d.sslCertPath} (key ${d.sslCertKeyPath ?? '?'})` : '-'],
    ['version', `${d.version} (${d.updatedAt}${d.updatedBy ? ` by ${d.updatedBy}` : ''})`],
  ];
  const hidden = d.hiddenDelegations > 0 ? `(${d.hiddenDelegations} hidden)\n` : '';
  return `${fields(rows)}delegations:\n${table(['id', 'prefix', 'to', 'by', 'at'], d.delegations.map((x) => [x.id, x.uriPrefix, x.node, x.by, x.at]), '(none)\n')}${hidden}`;
}

function serviceText(v: ServiceSettings): string {
  const b = v.balance.method === 'hash' ? `hash ${v.balance.key ?? ''}` : v.balance.method;
  const attrs = Object.entries(v.attributes).map(([k, x]) => `${k}=${JSON.stringify(x)}`).join(' ') || '-';
  return fields([['path', v.path], ['routes', v.domainUris.map((du) => `${du.domain}${du.uri}`).join(' ')], ['upstream', v.effectiveUpstream], ['port', v.port], ['balance', b], ['attributes', attrs], ['version', `${v.version} (${v.updatedAt})`]]);
}

/** Adds `domain` and `service` under `canopy nginx`. */
export function registerNginxSettings(group: Command, ctx: CliContext): void {
  const dom = group.command('domain').description('domains: ports, certificate, owner and the URI prefixes it delegates');

  withJson(dom.command('ls').description('list domains with their ports, owner and clusters')).action(async (opts: JsonOption) => {
    const { items } = await ctx.client().request<{ items: Domain[] }>('GET', '/domains');
    ctx.print(opts.json, items, () => table(['domain', 'ports', 'owner', 'clusters'], items.map((d) => [d.domain, portsText(d), ownerText(d), d.clusters.join(',') || '-']), '(no domains)\n'));
  });

  withJson(dom.command('show <domain>').description('a domain with its delegations')).action(async (domain: string, opts: JsonOption) => {
    const d = await ctx.client().request<Domain>('GET', domainUrl(domain));
    ctx.print(opts.json, d, () => domainText(d));
  });

  withJson(dom.command('set <domain>').description('create or change a domain; flags not given keep their stored value'))
    .option('--port <port>', 'a listening port, 80 or 443:ssl (repeatable; replaces the stored ports)', collect)
    .option('--owner <path>', 'the owner node (you need nginx.write there); required for a new domain unless superuser')
    .option('--cert <path>', 'certificate file (when a port uses ssl)')
    .option('--key <path>', 'certificate key file (when a port uses ssl)')
    .option('--access-log <file>', 'access log file name (default DOMAIN_access.log)')
    .option('--error-log <file>', 'error log file name (default DOMAIN_error.log)')
    .action(async (domain: string, opts: JsonOption & { port?: string[]; owner?: string; cert?: string; key?: string; accessLog?: string; errorLog?: string }) => {
      const client = ctx.client();
      const url = domainUrl(domain);
      const have = await client.request<Domain>('GET', url).catch((err: unknown) => {
        if ((err as { status?: number }).status === 404) return undefined;
        throw err;
      });
      const ports = opts.port ? opts.port.map(port) : have?.ports;
      if (!ports) throw new UsageError('a new domain needs --port');
      const ssl = ports.some((p) => p.ssl);
      const keep = <K extends keyof Domain>(k: K) => (have?.[k] !== undefined ? { [k]: have[k] } : {});
      const body = {
        ports,
        ...(opts.owner ? { owner: opts.owner } : {}),
        ...(ssl ? { ...keep('sslCertPath'), ...keep('sslCertKeyPath') } : {}),
        ...(opts.cert ? { sslCertPath: opts.cert } : {}),
        ...(opts.key ? { sslCertKeyPath: opts.key } : {}),
        ...keep('accessLogPath'), ...keep('errorLogPath'),
        ...(opts.accessLog ? { accessLogPath: opts.accessLog } : {}),
        ...(opts.errorLog ? { errorLogPath: opts.errorLog } : {}),
      };
      const d = await client.request<Domain>('PUT', url, body);
      ctx.print(opts.json, d, () => `${have ? 'changed' : 'created'} ${d.domain} (ports ${portsText(d)}, owner ${ownerText(d)})\n`);
    });

  withJson(dom.command('rm <domain>').description('delete a domain no cluster or service uses')).action(async (domain: string, opts: JsonOption) => {
    await ctx.client().request('DELETE', domainUrl(domain));
    ctx.print(opts.json, { deleted: domain }, () => `deleted ${domain}\n`);
  });

  withJson(dom.command('delegate <domain> <uri-prefix> <node>').description('let the services under NODE attach URIs of the domain that start with URI-PREFIX')).action(
    async (domain: string, uriPrefix: string, node: string, opts: JsonOption) => {
      const d = await ctx.client().request<Delegation>('POST', `${domainUrl(domain)}/delegations`, { uriPrefix, node });
      ctx.print(opts.json, d, () => `delegated ${domain}${d.uriPrefix} to ${d.node} (#${d.id})\n`);
    },
  );

  withJson(dom.command('undelegate <domain> <id>').description('remove a delegation (routes already attached stay)')).action(async (domain: string, id: string, opts: JsonOption) => {
    const n = integer(1, 2 ** 31 - 1)(id);
    await ctx.client().request('DELETE', `${domainUrl(domain)}/delegations/${n}`);
    ctx.print(opts.json, { domain, removed: n }, () => `removed delegation #${n} of ${domain}\n`);
  });

  const svc = group.command('service').description("a service node's nginx settings: routes, upstream, balancing, attributes");

  withJson(svc.command('show <path>').description("the service's nginx settings")).action(async (path: string, opts: JsonOption) => {
    const v = await ctx.client().request<ServiceSettings>('GET', nodeUrl(path));
    ctx.print(opts.json, v, () => serviceText(v));
  });

  withJson(svc.command('set <path>').description('create or change the settings; flags not given keep their stored value'))
    .option('--route <domain/uri>', 'a route, e.g. pay.example.com/api/ (repeatable; replaces the stored routes)', collect)
    .option('--port <n>', 'the port the instances listen on', integer(1, 65535))
    .option('--upstream <name>', 'upstream name (default: the path with _ for .)')
    .option('--balance <method>', 'wrr, least_conn, ip_hash or hash:KEY')
    .option('--attr <name=value>', 'a custom attribute, e.g. keepalive=32 (repeatable; replaces the stored attributes)', (v: string, prev: string[] = []) => [...prev, v])
    .action(async (path: string, opts: JsonOption & { route?: string[]; port?: number; upstream?: string; balance?: string; attr?: string[] }) => {
      const client = ctx.client();
      const url = nodeUrl(path);
      const have = await client.request<ServiceSettings>('GET', url).catch((err: unknown) => {
        if ((err as { status?: number }).status === 404) return undefined;
        throw err;
      });
      const domainUris = opts.route ? opts.route.map(route) : have?.domainUris;
      const portN = opts.port ?? have?.port;
      if (!domainUris || portN === undefined) throw new UsageError('new nginx settings need --route and --port');
      const body = {
        domainUris,
        port: portN,
        ...(opts.upstream ? { upstream: opts.upstream } : have?.upstream ? { upstream: have.upstream } : {}),
        ...(opts.balance ? { balance: balance(opts.balance) } : have ? { balance: have.balance } : {}),
        ...(opts.attr ? { attributes: attributes(opts.attr) } : have ? { attributes: have.attributes } : {}),
      };
      const v = await client.request<ServiceSettings>('PUT', url, body);
      ctx.print(opts.json, v, () => `${have ? 'changed' : 'created'} nginx settings of ${v.path}: ${v.domainUris.map((du) => `${du.domain}${du.uri}`).join(' ')} → ${v.effectiveUpstream}:${v.port}\n`);
    });

  withJson(svc.command('rm <path>').description("delete the service's nginx settings")).action(async (path: string, opts: JsonOption) => {
    await ctx.client().request('DELETE', nodeUrl(path));
    ctx.print(opts.json, { deleted: path }, () => `deleted nginx settings of ${path}\n`);
  });
}
