/**
 * `canopy enc HOSTNAME [--explain] [--json]`: the Puppet ENC answer for a host, usable directly as
 * Puppet's `external_nodes` script. YAML on stdout and exit 0; a message on stderr and exit 1 for an
 * unknown host or any other failure (Puppet then refuses to compile, which is what it should do).
 *
 * Puppet runs the script once per agent run, so this path imports nothing heavy: no commander, no
 * zod, no SDK, not even `fetch` (undici costs ~20 ms to load; node:http a few). `enc-main.ts` is its
 * own entry for that reason. On the Puppet server:
 *
 *   #!/bin/sh                                  (e.g. /usr/local/bin/canopy-enc, mode 0755)
 *   export CANOPY_URL=https://canopy.example:7070 CANOPY_TOKEN=cnt_…   (or a config file via CANOPY_CONFIG)
 *   export NODE_COMPILE_CACHE=/var/cache/canopy-enc     (caches the type-stripped entry too: ~35 ms less per run)
 *   exec /opt/canopy/node_modules/.bin/node /opt/canopy/packages/cli/src/enc-main.ts "$@"
 *
 * and in puppet.conf `[server] node_terminus = exec` and `external_nodes = /usr/local/bin/canopy-enc`.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

/** How long to wait for the server before failing the Puppet run. */
export const ENC_TIMEOUT_MS = 30_000;

export interface EncRequest {
  url: string;
  token: string | undefined;
  hostname: string;
  explain?: boolean | undefined;
  json?: boolean | undefined;
}

export interface EncIo {
  out(text: string): void;
  err(text: string): void;
}

const stdio: EncIo = { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t) };

/** Ask the server for the host's answer and print it; resolves to the exit code (0 or 1). */
export async function printEnc(req: EncRequest, io: EncIo = stdio, timeoutMs = ENC_TIMEOUT_MS): Promise<number> {
  const fail = (msg: string) => {
    io.err(`canopy enc: ${req.hostname}: ${msg}\n`);
    return 1;
  };
  if (!/^https?:\/\/[^/]/.test(req.url)) return fail(`server URL '${req.url}' must start with http:// or https://`);
  if (!req.token) return fail(`no API token: set CANOPY_TOKEN or run \`canopy login\` (server ${req.url})`);
  if (req.hostname === '' || req.hostname.startsWith('-')) return fail('expected a host name');
  const query = req.json ? '?format=json' : req.explain ? '?explain=1' : '';
  let res: { status: number; statusText: string; body: string };
  try {
    const target = new URL(`${req.url.replace(/\/+$/, '')}/api/v1/enc/${encodeURIComponent(req.hostname)}${query}`);
    res = await get(target, { authorization: `Bearer ${req.token}` }, timeoutMs);
  } catch (err) {
    return fail(`cannot reach ${req.url}: ${reason(err, timeoutMs)}`);
  }
  if (res.status < 200 || res.status > 299) return fail(`${problemDetail(res.body) ?? (res.statusText || 'request failed')} (HTTP ${res.status})`);
  io.out(res.body.endsWith('\n') ? res.body : `${res.body}\n`);
  return 0;
}

// node:https (and with it TLS) is loaded only for an https URL.
async function get(target: URL, headers: Record<string, string>, timeoutMs: number): Promise<{ status: number; statusText: string; body: string }> {
  const { request } = target.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(target, { headers, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The `enc-main.ts` entry: `[--url U] [--token T] [--explain] [--json] HOSTNAME`, then env, then the config file. */
export async function runEnc(argv: string[], env: NodeJS.ProcessEnv = process.env, io: EncIo = stdio): Promise<number> {
  const flags: { url?: string; token?: string; explain?: boolean; json?: boolean } = {};
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const [name, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (name === '--url' || name === '--token') flags[name === '--url' ? 'url' : 'token'] = inline ?? argv[++i];
    else if (a === '--explain') flags.explain = true;
    else if (a === '--json') flags.json = true;
    else if (a === '-h' || a === '--help') {
      io.out('usage: canopy enc [--url URL] [--token TOKEN] [--explain] [--json] HOSTNAME\n');
      return 0;
    } else if (a.startsWith('-')) {
      io.err(`canopy enc: unknown option '${a}'\n`);
      return 1;
    } else words.push(a);
  }
  if (words.length !== 1) {
    io.err('canopy enc: expected exactly one HOSTNAME (usage: canopy enc [--explain] [--json] HOSTNAME)\n');
    return 1;
  }
  let url = flags.url || env['CANOPY_URL'];
  let token = flags.token || env['CANOPY_TOKEN'];
  // The config file (and the module that reads it) only when the flags and environment fall short.
  if (!url || !token) {
    try {
      const { configPath, DEFAULT_URL, readConfig } = await import('../config.ts');
      const config = readConfig(configPath(env));
      url ||= config.url || DEFAULT_URL;
      token ||= config.token;
    } catch (err) {
      io.err(`canopy enc: ${reason(err)}\n`);
      return 1;
    }
  }
  return printEnc({ url, token, hostname: words[0] as string, explain: flags.explain, json: flags.json }, io);
}

/** Adds `canopy enc` to the full CLI (same behaviour as the standalone entry). */
export function registerEnc(program: Command, ctx: CliContext): void {
  program
    .command('enc')
    .description('print the Puppet ENC answer (YAML) for a host; usable as Puppet\'s external_nodes script')
    .argument('<hostname>', 'the agent\'s certname')
    .option('--explain', 'say where every class and parameter came from')
    .option('--json', 'print the full answer as JSON')
    .action(async (hostname: string, opts: { explain?: boolean; json?: boolean }) => {
      const c = ctx.connection();
      process.exitCode = await printEnc({ url: c.url, token: c.token, hostname, explain: opts.explain, json: opts.json });
    });
}

interface Catalog {
  classes: { name: string; parameters: string[] | null }[];
  source: string;
  sourceUrl: string | null;
  updatedAt: string;
  fetchedAt: string | null;
  lastError?: string | null;
}

interface Defaults {
  classes: Record<string, Record<string, unknown>>;
  environment: string;
  version: number;
  updatedAt: string;
}

/**
 * Adds `canopy puppet classes ls|refresh` and `canopy puppet defaults show|set`: the classes the
 * Puppet side publishes, and the default class set a machine gets when its nodes disagree.
 */
export function registerPuppet(program: Command, ctx: CliContext): void {
  const puppet = program.command('puppet').description('the Puppet classes catalog and the default classes');
  const classes = puppet.command('classes').description('the classes Puppet publishes (CANOPY_PUPPET_CLASSES_URL or an upload)');
  const catalogText = (c: Catalog) =>
    `${c.classes.map((k) => `${k.name}${k.parameters?.length ? `  (${k.parameters.join(', ')})` : ''}\n`).join('') || '(no classes)\n'}` +
    `${c.classes.length} class(es) from ${c.source}${c.sourceUrl ? ` ${c.sourceUrl}` : ''}, updated ${c.updatedAt}${c.lastError ? `; last fetch failed: ${c.lastError}` : ''}\n`;

  classes
    .command('ls')
    .description('list the available classes')
    .option('--json', 'print raw JSON (for scripts)')
    .action(async (opts: { json?: boolean }) => {
      const c = await ctx.client().request<Catalog>('GET', '/puppet/classes');
      ctx.print(opts.json, c, () => catalogText(c));
    });

  classes
    .command('refresh')
    .description('fetch the classes file from its URL now')
    .option('--json', 'print raw JSON (for scripts)')
    .action(async (opts: { json?: boolean }) => {
      const c = await ctx.client().request<Catalog>('POST', '/puppet/classes/refresh');
      ctx.print(opts.json, c, () => catalogText(c));
    });

  const defaults = puppet.command('defaults').description('the default classes (base environment) of machines whose nodes disagree');
  const defaultsText = (d: Defaults) => `classes:     ${Object.keys(d.classes).join(', ') || '-'}\nenvironment: ${d.environment}\nversion:     ${d.version}\nupdated:     ${d.updatedAt}\n`;

  defaults
    .command('show')
    .description('show the default classes and environment')
    .option('--json', 'print raw JSON (for scripts)')
    .action(async (opts: { json?: boolean }) => {
      const d = await ctx.client().request<Defaults>('GET', '/puppet/defaults');
      ctx.print(opts.json, d, () => defaultsText(d));
    });

  defaults
    .command('set')
    .description('replace the default classes (superusers)')
    .option('--class <name>', 'a default class (repeatable, or comma-separated)', (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((x) => x.trim()).filter(Boolean)], [])
    .option('--environment <name>', 'the Puppet environment (default: keep the current one)')
    .option('--json', 'print raw JSON (for scripts)')
    .action(async (opts: { class: string[]; environment?: string; json?: boolean }) => {
      const client = ctx.client();
      const environment = opts.environment ?? (await client.request<Defaults>('GET', '/puppet/defaults')).environment;
      const d = await client.request<Defaults>('PUT', '/puppet/defaults', { classes: Object.fromEntries(opts.class.map((c) => [c, {}])), environment });
      ctx.print(opts.json, d, () => defaultsText(d));
    });
}

function problemDetail(body: string): string | undefined {
  try {
    const p = JSON.parse(body) as { detail?: unknown };
    return typeof p.detail === 'string' ? p.detail : undefined;
  } catch {
    return body.trim().slice(0, 200) || undefined;
  }
}

function reason(err: unknown, timeoutMs?: number): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return timeoutMs ? `no answer within ${timeoutMs / 1000} s` : 'timed out';
  return err.message;
}
