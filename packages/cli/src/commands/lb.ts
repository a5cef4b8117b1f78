/**
 * `canopy lb`: shows which server an algorithm picks for given keys or for N requests in a row,
 * with the same code the SDK and the nginx config generator use, so an operator can predict
 * routing before changing a service.
 */

import { isIP } from 'node:net';
import { Option, type Command } from 'commander';
import {
  LB_ALGORITHMS,
  MAX_WEIGHT,
  ValidationError,
  createBalancer,
  isHostname,
  type Backend,
  type FieldIssue,
  type LbAlgorithm,
} from '@canopy/core';

/** Algorithms that make sense from the command line (least_request needs live in-flight counts). */
export const CLI_LB_ALGORITHMS = LB_ALGORITHMS.filter((a) => a !== 'least_request');

/** Most sequential picks `--count` allows, so a typo cannot flood the terminal. */
export const MAX_COUNT = 100_000;

/** `host:port[=weight]`; the host is an IPv4 address, a hostname or a bracketed IPv6 address. */
const SERVER_RE = /^(\[[^\]]+\]|[^:=[\]]+):(\d{1,5})(?:=(\d+))?$/;

function isValidHost(host: string): boolean {
  if (host.startsWith('[')) return isIP(host.slice(1, -1)) === 6;
  // A name of digits and dots can only be a mistyped IPv4 address (a top-level label is never numeric).
  return isIP(host) === 4 || (isHostname(host.toLowerCase()) && !/^[\d.]+$/.test(host));
}

/** Parses `"10.0.0.1:80,10.0.0.2:80=2"` into backends (id `host:port`, weight 1 by default); throws ValidationError. */
export function parseServers(text: string): Backend[] {
  const issues: FieldIssue[] = [];
  const backends: Backend[] = [];
  const entries = text.split(',').map((s) => s.trim());
  entries.forEach((entry, i) => {
    const m = SERVER_RE.exec(entry);
    const [, rawHost = '', rawPort = '', rawWeight] = m ?? [];
    const port = Number(rawPort);
    const weight = rawWeight === undefined ? 1 : Number(rawWeight);
    let problem: string | undefined;
    if (m === null) problem = 'expected host:port or host:port=weight';
    else if (!isValidHost(rawHost)) problem = `'${rawHost}' is not an IPv4 address, hostname or [IPv6] address`;
    else if (port < 1 || port > 65535) problem = 'port must be from 1 to 65535';
    else if (weight < 1 || weight > MAX_WEIGHT) problem = `weight must be an integer from 1 to ${MAX_WEIGHT}`;
    else if (backends.some((b) => b.id === `${rawHost}:${port}`)) problem = 'listed twice';
    if (problem !== undefined) {
      issues.push({ path: ['servers', i], message: `server '${entry}': ${problem}` });
      return;
    }
    const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
    backends.push({ id: `${rawHost}:${port}`, host, port, weight });
  });
  if (issues.length > 0) {
    throw new ValidationError(`invalid --servers: ${issues.map((x) => x.message).join('; ')}`, issues);
  }
  return backends;
}

/** Options as commander hands them over. */
export interface LbOptions {
  algorithm: LbAlgorithm;
  servers: string;
  keys?: string;
  count?: string;
  seed?: string;
  json?: boolean;
}

/** One line of output. */
export interface LbPick {
  key: string | number;
  server: string;
}

/** Mulberry32: a tiny seeded generator, so `--seed` makes `random` repeatable. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function integerOption(name: string, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) {
    throw new ValidationError(`--${name} must be an integer from ${min} to ${max}`, [
      { path: [name], message: `must be an integer from ${min} to ${max}` },
    ]);
  }
  return n;
}

/** Runs the picks the options describe; pure apart from the seeded or Math.random generator. */
export function computeLb(opts: LbOptions): LbPick[] {
  const backends = parseServers(opts.servers);
  if ((opts.keys === undefined) === (opts.count === undefined)) {
    throw new ValidationError('give exactly one of --keys and --count', [
      { path: ['keys'], message: 'give exactly one of --keys and --count' },
    ]);
  }
  const random = opts.seed === undefined ? Math.random : seeded(integerOption('seed', opts.seed, 0, 2 ** 32 - 1));
  const balancer = createBalancer(opts.algorithm, backends, { random });
  if (opts.keys !== undefined) {
    return opts.keys.split(',').map((key) => ({ key, server: balancer.pick(key)?.id ?? '-' }));
  }
  const count = integerOption('count', opts.count ?? '', 1, MAX_COUNT);
  return Array.from({ length: count }, (_, i) => ({ key: i + 1, server: balancer.pick()?.id ?? '-' }));
}

/** Renders picks as `key<TAB>server` lines, or as a JSON array with `--json`. */
export function formatLb(picks: LbPick[], json: boolean): string {
  if (json) return `${JSON.stringify(picks)}\n`;
  return picks.map((p) => `${p.key}\t${p.server}\n`).join('');
}

/** Adds `canopy lb` to `program`; output goes to `write` (stdout by default). */
export function registerLb(program: Command, write: (text: string) => void = (t) => void process.stdout.write(t)): Command {
  return program
    .command('lb')
    .description('show which server a load-balancing algorithm picks for keys or sequential requests')
    .addOption(new Option('-a, --algorithm <name>', 'load-balancing algorithm').choices(CLI_LB_ALGORITHMS).makeOptionMandatory())
    .requiredOption('-s, --servers <list>', 'servers as host:port[=weight], comma-separated')
    .addOption(new Option('-k, --keys <list>', 'comma-separated keys to route').conflicts('count'))
    .addOption(new Option('-n, --count <n>', 'number of sequential picks without a key').conflicts('keys'))
    .option('--seed <n>', 'seed for the random algorithm, for repeatable output')
    .option('--json', 'print a JSON array of {key, server}')
    .action((opts: LbOptions) => {
      write(formatLb(computeLb(opts), opts.json === true));
    });
}
